"""The bootstrap file's ``regions`` block and ``serves`` key (docs/pact-workflows.md 6.2):
line-precise refusals, idempotent application, every change audited."""

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.bootstrap import BootstrapError, apply_bootstrap, read_bootstrap
from gateway.registry.areas import RegionDirectory, serves_of
from gateway.registry.models import Region
from gateway.storage.database import Database
from gateway.storage.models import Organisation

LEERPLICHT = "00000001005678901000"
SWV = "00000001002345678000"
SCHOOL = "00000001001234567000"
WIJ = "00000001004567890000"

ORGANISATIONS = f"""\
organisations:
  - oin: "{LEERPLICHT}"
    name: "Gemeente Groningen Leerplicht"
    type: leerplicht
    serves: {{municipalities: ["0014"]}}
  - oin: "{SWV}"
    name: "SWV Groningen Stad"
    type: swv
    serves: {{regions: [groningen], sectors: [po, so]}}
  - oin: "{SCHOOL}"
    name: "OBS De Regenboog"
    type: school
"""
GRONINGEN = f"""\
regions:
  - code: groningen
    name: "Thuiszitterspact 2.0 Groningen"
    municipalities: ["0014"]
    homebound_norm_days: 91
    escalation_recipient: "{SWV}"
    escalation_basis: "Thuiszitterspact 2.0 Groningen 2021-2024 (AVG art. 6 lid 1 onder e)"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bootstrap.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def refusal(tmp_path, text) -> list[str]:
    with pytest.raises(BootstrapError) as caught:
        read_bootstrap(write(tmp_path, text), production=False)
    return caught.value.problems


def apply(db, tmp_path, text):
    return apply_bootstrap(db, read_bootstrap(write(tmp_path, text), production=False), AuditLog())


def actions(db) -> list[tuple[str, str | None, str | None]]:
    """(action, recipient, steps) of every audit event; a bootstrap event's steps name the
    record it changed."""
    with db.session() as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))
        return [(e.action, e.recipient, e.steps) for e in rows]


def test_regions_and_serves_are_applied_once_and_audited(database_url, tmp_path):
    db = Database(database_url)
    first = apply(db, tmp_path, ORGANISATIONS + GRONINGEN)
    assert "region groningen" in first.created
    with db.session() as session:
        directory = RegionDirectory(session)
        region = directory.region("groningen")
        assert (region.name, region.municipalities, region.homebound_norm_days) == (
            "Thuiszitterspact 2.0 Groningen",
            ("0014",),
            91,
        )
        assert region.holder.oin == SWV
        assert directory.basis("groningen").startswith("Thuiszitterspact 2.0 Groningen 2021")
        ids = dict(session.execute(select(Organisation.oin, Organisation.id)).all())
        assert serves_of(session) == {
            ids[LEERPLICHT]: {"municipalities": ["0014"], "regions": [], "sectors": None},
            ids[SWV]: {"municipalities": [], "regions": ["groningen"], "sectors": ["po", "so"]},
        }
        assert directory.region_of_reporter(ids[LEERPLICHT]) == "groningen"
        assert directory.region_of_reporter(ids[SCHOOL]) is None
    events = [action for action, _, _ in actions(db)]
    # an organisation created with its serves is one create event, no update
    assert events.count("admin.organisation.create") == 3
    assert "admin.organisation.update" not in events
    assert ("admin.region.create", None, "groningen") in actions(db)

    second = apply(db, tmp_path, ORGANISATIONS + GRONINGEN)
    assert not second.changed
    assert len(actions(db)) == len(events)
    db.dispose()


def test_changed_serves_and_norm_are_updates(database_url, tmp_path):
    db = Database(database_url)
    apply(db, tmp_path, ORGANISATIONS + GRONINGEN)
    before = len(actions(db))
    changed = (ORGANISATIONS + GRONINGEN).replace("sectors: [po, so]", "sectors: [vo]")
    changed = changed.replace("homebound_norm_days: 91", "homebound_norm_days: 90")
    report = apply(db, tmp_path, changed)
    assert sorted(report.updated) == [f"organisation {SWV}", "region groningen"]
    new = actions(db)[before:]
    assert sorted(new) == [
        ("admin.organisation.update", SWV, SWV),
        ("admin.region.update", None, "groningen"),
    ]
    with db.session() as session:
        assert RegionDirectory(session).norm_days("groningen") == 90
        swv_id = session.scalars(select(Organisation.id).where(Organisation.oin == SWV)).one()
        assert serves_of(session, [swv_id])[swv_id]["sectors"] == ["vo"]
    db.dispose()


def test_a_region_left_out_is_kept_and_remove_deletes_it(database_url, tmp_path):
    db = Database(database_url)
    apply(db, tmp_path, ORGANISATIONS + GRONINGEN)
    apply(db, tmp_path, ORGANISATIONS)  # additive: nothing removed
    with db.session() as session:
        assert session.scalars(select(Region.code)).all() == ["groningen"]
    # still served by the SWV: refused, nothing written
    with pytest.raises(BootstrapError) as caught:
        apply(db, tmp_path, "regions:\n  - code: groningen\n    remove: true\n")
    assert caught.value.problems == [
        f"bootstrap.yaml:2: regions[0]: region groningen is still served by {SWV}; "
        "change their serves first"
    ]
    moved = ORGANISATIONS.replace("{regions: [groningen], sectors: [po, so]}", "{}")
    report = apply(db, tmp_path, moved + "regions:\n  - code: groningen\n    remove: true\n")
    assert report.removed == ["region groningen"]
    assert ("admin.region.delete", None, "groningen") in actions(db)
    with db.session() as session:
        assert session.scalars(select(Region.code)).all() == []
    db.dispose()


def test_file_problems_are_listed_with_their_lines(tmp_path):
    problems = refusal(
        tmp_path,
        f"""\
        regions:
          - code: Groningen
            name: "G"
            municipalities: ["GM0014", "0014"]
            homebound_norm_days: 0
            escalation_recipient: "{SCHOOL}"
            colour: blue
          - code: lekstroom
            name: "L"
            municipalities: ["0356"]
            homebound_norm_days: 42
          - code: lekstroom2
            name: "L2"
            municipalities: ["0356"]
            homebound_norm_days: 42
            escalation_recipient: "{WIJ}"
            escalation_basis: "convenant"
        organisations:
          - oin: "{SCHOOL}"
            name: "School"
            type: school
            serves: {{municipalities: ["14"], sectors: [hbo], towns: [x]}}
          - oin: "{LEERPLICHT}"
            name: "Leerplicht"
            type: leerplicht
            serves: {{municipalities: ["0356"], regions: [lekstroom2, lekstroom]}}
          - oin: "{WIJ}"
            name: "WIJ"
            type: wij
            serves: {{regions: [lekstroom]}}
        """,
    )
    assert problems == [
        "bootstrap.yaml:22: organisations[0].serves.towns: unknown key (allowed: "
        "municipalities, regions, sectors)",
        "bootstrap.yaml:22: organisations[0].serves.municipalities[0]: must be a CBS "
        "gemeentecode of exactly 4 digits (without GM)",
        "bootstrap.yaml:22: organisations[0].serves.sectors[0]: must be one of po, vo, mbo, so, "
        "vso",
        "bootstrap.yaml:7: regions[0].colour: unknown key (allowed: code, escalation_basis, "
        "escalation_recipient, homebound_norm_days, municipalities, name, remove)",
        "bootstrap.yaml:2: regions[0].code: must be 2-40 characters of a-z, 0-9 and '-'",
        "bootstrap.yaml:4: regions[0].municipalities[0]: must be a CBS gemeentecode of exactly "
        "4 digits (without GM)",
        "bootstrap.yaml:5: regions[0].homebound_norm_days: must be a whole number of days from "
        "1 to 365",
        "bootstrap.yaml:6: regions[0].escalation_recipient: needs escalation_basis: cite the "
        "agreement that gives it doorzettingsmacht",
        "bootstrap.yaml:14: regions[2].municipalities[0]: 0356 lies in region lekstroom "
        "already: a municipality lies in one region",
        "bootstrap.yaml:16: regions[2].escalation_recipient: must be an organisation of type "
        "swv or leerplicht, not wij",
        "bootstrap.yaml:26: organisations[1].serves: a leerplicht organisation serves one "
        "region, not lekstroom, lekstroom2: its homebound reports would not say which norm "
        "applies",
    ]


def test_registry_checks_run_before_anything_is_written(database_url, tmp_path):
    """A holder or a region that is not in the file is looked up in the registry; a problem
    there refuses the whole file (the organisations it names are not written either)."""
    db = Database(database_url)
    text = f"""\
    organisations:
      - oin: "{SWV}"
        name: "SWV"
        type: swv
        serves: {{regions: [drenthe]}}
    regions:
      - code: groningen
        name: "G"
        municipalities: ["0014"]
        homebound_norm_days: 91
        escalation_recipient: "00000001009999999000"
        escalation_basis: "convenant"
    """
    with pytest.raises(BootstrapError) as caught:
        apply(db, tmp_path, text)
    assert caught.value.problems == [
        "bootstrap.yaml:11: regions[0].escalation_recipient: no organisation has this OIN "
        "(neither in the file nor registered)",
        "bootstrap.yaml:5: organisations[0].serves.regions: no region drenthe (neither in the "
        "file nor registered)",
    ]
    with db.session() as session:
        assert session.scalars(select(Organisation)).all() == []
        assert session.scalars(select(AuditEventRow)).all() == []
    db.dispose()


def test_a_registered_region_and_holder_may_be_named_by_a_later_file(database_url, tmp_path):
    db = Database(database_url)
    apply(db, tmp_path, ORGANISATIONS + GRONINGEN)
    other = "00000001005555555000"
    report = apply(
        db,
        tmp_path,
        f"""\
        organisations:
          - oin: "{other}"
            name: "SWV VO Groningen"
            type: swv
            serves: {{regions: [groningen], sectors: [vo, vso]}}
        regions:
          - code: lekstroom
            name: "Thuiszittersaanpak Lekstroom"
            municipalities: ["0356"]
            homebound_norm_days: 42
            escalation_recipient: "{SWV}"
            escalation_basis: "Convenant Thuiszittersaanpak Lekstroom 2017-2020"
        """,
    )
    assert sorted(report.created) == [f"organisation {other}", "region lekstroom"]
    with db.session() as session:
        assert [r.code for r in RegionDirectory(session).regions()] == ["groningen", "lekstroom"]
    # a municipality of a registered region the file does not name cannot join another
    with pytest.raises(BootstrapError) as caught:
        apply(
            db,
            tmp_path,
            "regions:\n  - code: ommeland\n    name: O\n    municipalities: ['0014']\n"
            "    homebound_norm_days: 91\n",
        )
    assert caught.value.problems == [
        "bootstrap.yaml:4: regions[0].municipalities: 0014 lies in region groningen already: "
        "a municipality lies in one region"
    ]
    db.dispose()


def test_the_organisations_page_shows_the_regions_and_what_each_serves(
    keys_dir, tmp_path_factory, tmp_path
):
    """The operator's admin reads the regional configuration on /ui/organisations (read-only,
    in Dutch): each organisation's areas, and a table of the regions."""
    from tests.saml_helpers import devidp_login, gateway_app

    app = gateway_app(tmp_path_factory.mktemp("regions-page"), keys_dir)
    services = app.extensions["gateway"]
    try:
        read = read_bootstrap(write(tmp_path, ORGANISATIONS + GRONINGEN), production=False)
        apply_bootstrap(services.db, read, services.audit_log)
        client = app.test_client()
        assert devidp_login(client, "admin-operator").status_code == 303
        page = client.get("/ui/organisations")
        assert page.status_code == 200
        body = " ".join(page.get_data(as_text=True).split())
        assert '<h2 id="h-regions">Regio\'s</h2>' in body
        assert (
            '<tr id="region-groningen"> <td>Thuiszitterspact 2.0 Groningen<br>'
            '<span class="muted nowrap">code groningen</span></td> <td>0014</td> '
            '<td class="nowrap">91 dagen</td> <td>SWV Groningen Stad<br>'
            f'<span class="muted nowrap">OIN {SWV}</span><br><span class="muted">Grondslag: '
            "Thuiszitterspact 2.0 Groningen 2021-2024 (AVG art. 6 lid 1 onder e)</span></td>"
        ) in body
        assert '<span class="muted serves">Bedient: gemeente 0014</span>' in body
        assert (
            '<span class="muted serves">Bedient: regio groningen (onderwijssoorten po, so)</span>'
        ) in body
        assert body.count('class="muted serves"') == 2  # the school serves no area
    finally:
        services.db.dispose()
