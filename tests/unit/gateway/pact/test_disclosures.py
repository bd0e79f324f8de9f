"""Rule 6 (docs/pact-workflows.md 2.3): each "L learned of O" once, as one case.disclose event
with sender O and recipient L, readable by both and by the operator; a repeat writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_consultation import NOW, World, build_world, consultation

from gateway.audit.log import AuditLog
from gateway.pact.disclosures import Disclosure, Party, disclose, pairs
from gateway.pact.models import PactCase, PactDisclosure
from tests import exchange_helpers as ex


@pytest.fixture
def world(database_url, keys_dir) -> World:
    return build_world(database_url, keys_dir)


def test_pairs_leave_out_the_learner_itself():
    a, b, c = Party(1, "a"), Party(2, "b"), Party(3, "c")
    assert pairs([b, c], [a, b, c]) == [(b, a), (b, c), (c, a), (c, b)]


def test_opening_discloses_every_invitee_to_every_other_and_the_convener(world):
    world.open(consultation([ex.GGD, ex.WIJ]))
    events = world.events("case.disclose")
    assert sorted((e.recipient, e.sender) for e in events) == sorted(
        [
            (ex.GGD, ex.SCHOOL),
            (ex.GGD, ex.WIJ),
            (ex.WIJ, ex.SCHOOL),
            (ex.WIJ, ex.GGD),
        ]
    )
    assert all(e.actor_org == ex.SCHOOL and e.message_type is None for e in events)


def test_a_pair_is_disclosed_once(world):
    world.open(consultation([ex.GGD]))
    with world.db.session() as session:
        case = session.scalars(select(PactCase)).one()
    about = Disclosure(case.id, case.purpose, None, None, case.subject_ref, ex.SCHOOL, None)
    ggd, school = Party(world.orgs[ex.GGD].id, ex.GGD), Party(world.orgs[ex.SCHOOL].id, ex.SCHOOL)
    wij = Party(world.orgs[ex.WIJ].id, ex.WIJ)
    with world.db.write_session() as session:
        written = disclose(session, AuditLog(), about, [(ggd, school), (ggd, wij)], NOW)
    assert written == 1  # the GGD already learned of the school at the opening
    with world.db.session() as session:
        assert len(session.scalars(select(PactDisclosure)).all()) == 2
    assert len(world.events("case.disclose")) == 2
