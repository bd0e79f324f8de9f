"""The bootstrap file's ``saml.idps`` list and the organisations' ``brin`` and ``kvk``
(issue 21): checked with line-precise problems, stored idempotently, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.bootstrap import BootstrapError, apply_bootstrap, read_bootstrap
from gateway.saml.models import SamlIdpRow
from gateway.storage.database import Database
from gateway.storage.models import Organisation
from tests.saml_helpers import TestIdp

ORGANISATIONS = """organisations:
  - oin: "00000001001234567000"
    name: "OBS De Regenboog"
    type: school
    brin: "12AB"
  - oin: "00000001005678901000"
    name: "Leerplicht Groningen"
    type: leerplicht
    kvk: "12345678/000012345678"
"""
IDPS = """saml:
  idps:
    - key: entree
      name: "Entree"
      profile: entree
      metadata_file: idp.xml
    - key: makelaar
      name: "eHerkenning"
      profile: eherkenning
      metadata_file: idp2.xml
      binding: artifact
      organisations: ["00000001005678901000"]
"""


@pytest.fixture(scope="module")
def metadata(tmp_path_factory):
    return TestIdp(tmp_path_factory.mktemp("idp")).metadata()


def write(folder, text: str, metadata: str):
    (folder / "idp.xml").write_text(metadata)
    (folder / "idp2.xml").write_text(metadata.replace(TestIdp.ENTITY_ID, "https://broker.test/idp"))
    path = folder / "bootstrap.yaml"
    path.write_text(text)
    return path


def test_the_idps_and_identifiers_are_stored_once_and_audited(sqlite_url, tmp_path, metadata):
    path = write(tmp_path, ORGANISATIONS + IDPS, metadata)
    db = Database(sqlite_url)
    try:
        first = apply_bootstrap(db, read_bootstrap(path, production=False), AuditLog())
        second = apply_bootstrap(db, read_bootstrap(path, production=False), AuditLog())

        assert {"idp entree", "idp makelaar"} <= set(first.created)
        assert {"idp entree", "idp makelaar"} <= set(second.unchanged)
        assert not second.changed
        with db.session() as session:
            rows = {row.key: row for row in session.scalars(select(SamlIdpRow))}
            assert rows["entree"].profile == "entree"
            assert rows["entree"].organisations is None  # by identifier
            assert rows["entree"].encrypt_assertions is False
            assert rows["makelaar"].encrypt_assertions is True  # eherkenning's default
            assert rows["makelaar"].authn_context == ["urn:etoegang:core:assurance-class:loa3"]
            assert rows["makelaar"].entity_id == "https://broker.test/idp"
            assert rows["makelaar"].organisations == ["00000001005678901000"]
            identifiers = {o.oin: (o.brin, o.kvk) for o in session.scalars(select(Organisation))}
            assert identifiers == {
                "00000001001234567000": ("12AB", None),
                "00000001005678901000": (None, "12345678/000012345678"),
            }
            actions = session.scalars(
                select(AuditEventRow.action).where(AuditEventRow.action.like("admin.idp.%"))
            ).all()
            assert sorted(actions) == ["admin.idp.create", "admin.idp.create"]
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("brin: \"12AB\"", "brin: \"12ab\""), "organisations[0].brin: must be a BRIN"),
        (("kvk: \"12345678/000012345678\"", "kvk: \"1234\""), "organisations[1].kvk: must be a KvK"),
        (("profile: entree", "profile: digid"), "saml.idps[0].profile: must be one of"),
        (("binding: artifact", "binding: redirect"), "saml.idps[1].binding: must be post or"),
        (('organisations: ["00000001005678901000"]', "organisations: [\"123\"]"),
         "saml.idps[1].organisations: must be by_identifier or a list of 20-digit OINs"),
        (("metadata_file: idp.xml", "metadata_url: https://federation.test/md.xml\n      entity_id: x"),
         "saml.idps[0].metadata_signing_cert_file: is required with metadata_url"),
        (("key: entree", "key: Entree!"), "saml.idps[0].key: must be 1-40 lowercase"),
    ],
)
def test_a_wrong_entry_is_refused_with_its_line(tmp_path, metadata, change, expected):
    text = (ORGANISATIONS + IDPS).replace(*change)
    with pytest.raises(BootstrapError) as refused:
        read_bootstrap(write(tmp_path, text, metadata), production=False)
    assert any(expected in problem and "bootstrap.yaml:" in problem
               for problem in refused.value.problems), refused.value.problems
