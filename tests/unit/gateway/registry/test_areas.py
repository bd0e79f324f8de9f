"""Role addresses resolved through the registry (docs/pact-workflows.md section 6.1)."""

import pytest

from gateway.registry.areas import (
    RegionDirectory,
    region_of_org,
    regions_of_org,
    resolve_address,
    validate_role_address,
)
from gateway.registry.errors import RecipientAmbiguous, RecipientUnresolved
from gateway.registry.models import OrganisationArea, Region, RegionMunicipality
from gateway.storage.database import Database
from gateway.storage.models import Organisation, utcnow
from schemas.errors import SchemaValidationError

ORGS = {
    # oin: (name, type, status)
    "00000001005678901000": ("Gemeente Groningen Leerplicht", "leerplicht", "active"),
    "00000001002345678000": ("SWV PO Groningen", "swv", "active"),
    "00000001002345678999": ("SWV VO Groningen", "swv", "active"),
    "00000001007000000001": ("Leerplicht Lekstroom", "leerplicht", "suspended"),
    "00000001007000000003": ("SWV VO Zuid Utrecht", "swv", "active"),
    "00000001003456789000": ("GGD Groningen", "ggd", "active"),
    "00000001001234567000": ("OBS De Regenboog", "school", "active"),
}
AREAS = [
    # oin, kind, code, sectors
    ("00000001005678901000", "municipality", "0014", None),
    ("00000001002345678000", "region", "groningen", ["po", "so"]),
    ("00000001002345678999", "region", "groningen", ["vo", "vso"]),
    ("00000001007000000001", "municipality", "0356", None),
    ("00000001007000000003", "region", "lekstroom", None),
    ("00000001003456789000", "region", "groningen", None),
    ("00000001001234567000", "municipality", "0014", None),
]


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    with database.write_session() as session:
        ids = {}
        for oin, (name, type_, status) in ORGS.items():
            org = Organisation(oin=oin, name=name, type=type_, status=status)
            session.add(org)
            session.flush()
            ids[oin] = org.id
        groningen = Region(
            code="groningen",
            name="Thuiszitterspact 2.0 Groningen",
            homebound_norm_days=91,
            escalation_org_id=ids["00000001002345678000"],
            escalation_basis="Thuiszitterspact 2.0 Groningen 2021-2024",
            updated_at=utcnow(),
        )
        lekstroom = Region(
            code="lekstroom",
            name="Thuiszittersaanpak Lekstroom",
            homebound_norm_days=42,
            escalation_org_id=ids["00000001007000000003"],
            escalation_basis="Convenant Thuiszittersaanpak Lekstroom 2017-2020",
            updated_at=utcnow(),
        )
        session.add_all([groningen, lekstroom])
        session.flush()
        session.add(RegionMunicipality(region_id=groningen.id, municipality="0014"))
        for code in ("0321", "0353", "0331", "0356", "1961"):
            session.add(RegionMunicipality(region_id=lekstroom.id, municipality=code))
        for oin, kind, code, sectors in AREAS:
            session.add(OrganisationArea(org_id=ids[oin], kind=kind, code=code, sectors=sectors))
    database.ids = ids
    yield database
    database.dispose()


def resolve(db, address):
    with db.session() as session:
        return resolve_address(session, validate_role_address(address))


def test_leerplicht_by_municipality(db):
    row = resolve(db, {"type": "leerplicht", "municipality": "0014"})
    assert (row.oin, row.type, row.name, row.status) == (
        "00000001005678901000",
        "leerplicht",
        "Gemeente Groningen Leerplicht",
        "active",
    )
    assert row.id == db.ids["00000001005678901000"]


def test_a_municipality_is_served_through_its_region(db):
    """The GGD serves the region groningen, so it serves 0014, which lies in it."""
    row = resolve(db, {"type": "ggd", "municipality": "0014"})
    assert row.oin == "00000001003456789000"


def test_swv_by_region_needs_the_sector_when_two_serve_it(db):
    with pytest.raises(RecipientAmbiguous) as caught:
        resolve(db, {"type": "swv", "region": "groningen"})
    message = (
        "2 swv organisations serve region groningen; add education_sector or address one by OIN."
    )
    assert (caught.value.status, caught.value.code) == (409, "recipient_ambiguous")
    assert caught.value.detail == message
    assert caught.value.errors == {"recipient": [message]}
    assert resolve(db, {"type": "swv", "region": "groningen", "education_sector": "vo"}).oin == (
        "00000001002345678999"
    )
    assert resolve(db, {"type": "swv", "region": "groningen", "education_sector": "so"}).oin == (
        "00000001002345678000"
    )
    # through the municipality: the same two, the same choice by sector
    assert resolve(db, {"type": "swv", "municipality": "0014", "education_sector": "po"}).oin == (
        "00000001002345678000"
    )


def test_an_area_without_sectors_serves_every_sector(db):
    row = resolve(db, {"type": "swv", "region": "lekstroom", "education_sector": "mbo"})
    assert row.oin == "00000001007000000003"


def test_nobody_serving_is_unresolved_and_names_the_area(db):
    with pytest.raises(RecipientUnresolved) as caught:
        resolve(db, {"type": "leerplicht", "municipality": "9999"})
    assert (caught.value.status, caught.value.code) == (404, "recipient_unresolved")
    assert caught.value.errors == {
        "recipient": ["No leerplicht organisation serves municipality 9999."]
    }
    with pytest.raises(RecipientUnresolved) as caught:
        resolve(db, {"type": "wij", "region": "groningen"})
    assert caught.value.detail == "No wij organisation serves region groningen."
    with pytest.raises(RecipientUnresolved) as caught:
        resolve(db, {"type": "swv", "region": "groningen", "education_sector": "mbo"})
    assert caught.value.detail == (
        "No swv organisation serves region groningen for education sector mbo."
    )


def test_a_region_address_is_not_served_by_a_municipality_area(db):
    """The Lekstroom leerplicht serves 0356 only: it does not serve the whole region."""
    with pytest.raises(RecipientUnresolved):
        resolve(db, {"type": "leerplicht", "region": "lekstroom"})


def test_a_suspended_organisation_is_found_and_the_caller_decides(db):
    row = resolve(db, {"type": "leerplicht", "municipality": "0356"})
    assert (row.oin, row.status) == ("00000001007000000001", "suspended")


def test_the_refusal_points_at_the_callers_path(db):
    with db.session() as session, pytest.raises(RecipientUnresolved) as caught:
        resolve_address(session, {"type": "leerplicht", "municipality": "9999"}, path="invite.2")
    assert list(caught.value.errors) == ["invite.2"]


def test_address_shapes_are_checked_at_the_callers_path():
    with pytest.raises(SchemaValidationError) as caught:
        validate_role_address({"type": "leerplicht", "municipality": "GM0014"})
    assert caught.value.errors == {
        "recipient.municipality": ["use the 4 digits of the CBS gemeentecode, without GM"]
    }
    with pytest.raises(SchemaValidationError) as caught:
        validate_role_address({"type": "school", "municipality": "0014"}, path="invite.2")
    assert caught.value.errors == {"invite.2.type": ["Must be one of: leerplicht, swv, ggd, wij."]}
    with pytest.raises(SchemaValidationError) as caught:
        validate_role_address({"type": "swv", "region": "groningen", "municipality": "0014"})
    assert caught.value.errors == {
        "recipient": ["Must hold exactly one of municipality or region."]
    }
    with pytest.raises(SchemaValidationError) as caught:
        validate_role_address({"type": "swv", "region": "groningen", "sector": "po"})
    assert caught.value.errors == {
        "recipient.sector": ["Unknown field; it is not part of this message."]
    }
    assert validate_role_address(
        {"type": "swv", "region": "groningen", "education_sector": "vo"}
    ) == {"type": "swv", "region": "groningen", "education_sector": "vo"}


def test_regions_of_an_organisation(db):
    with db.session() as session:
        ids = db.ids
        assert regions_of_org(session, ids["00000001005678901000"]) == ["groningen"]
        assert region_of_org(session, ids["00000001007000000001"]) == "lekstroom"
        assert region_of_org(session, ids["00000001007000000003"]) == "lekstroom"
        unknown = max(ids.values()) + 1
        assert region_of_org(session, unknown) is None


def test_region_directory_reads_norm_holder_and_basis(db):
    with db.session() as session:
        directory = RegionDirectory(session)
        assert directory.region_of_reporter(db.ids["00000001007000000001"]) == "lekstroom"
        assert directory.norm_days("lekstroom") == 42
        assert directory.norm_days("groningen") == 91
        holder = directory.holder("lekstroom")
        assert (holder.oin, holder.type, holder.name) == (
            "00000001007000000003",
            "swv",
            "SWV VO Zuid Utrecht",
        )
        assert directory.basis("groningen") == "Thuiszitterspact 2.0 Groningen 2021-2024"
        assert directory.region("lekstroom").municipalities == (
            "0321",
            "0331",
            "0353",
            "0356",
            "1961",
        )
        assert directory.norm_days("drenthe") is None
        assert directory.holder("drenthe") is None
