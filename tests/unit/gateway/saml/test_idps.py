"""Which organisation an IdP may vouch for (issue 21): the profile's identifier is matched
against the registry (BRIN, KvK number with or without vestigingsnummer), an explicit list of
OINs limits the IdP, an eHerkenning assurance level below loa3 is refused."""

from __future__ import annotations

import pytest

from gateway.saml.idps import IdentityProvider, NotVouched, resolve_organisation, roles_of
from gateway.saml.profiles import Claim, loa_rank, sufficient_assurance
from gateway.storage.database import Database
from gateway.storage.models import Organisation

SCHOOL = "00000001001234567000"
OTHER_SCHOOL = "00000001002222222000"
LEERPLICHT = "00000001005678901000"
WIJ = "00000001004567890000"
LOA3 = "urn:etoegang:core:assurance-class:loa3"


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    with database.write_session() as session:
        for oin, type_, brin, kvk in (
            (SCHOOL, "school", "12AB", None),
            (OTHER_SCHOOL, "school", "34CD", None),
            (LEERPLICHT, "leerplicht", None, "12345678/000012345678"),
            (WIJ, "wij", None, "12345678"),
        ):
            session.add(Organisation(oin=oin, name=oin, type=type_, status="active", brin=brin,
                                     kvk=kvk))
    yield database
    database.dispose()


def idp(profile: str, organisations=None) -> IdentityProvider:
    return IdentityProvider(key=profile, name=f"IdP {profile}", profile=profile,
                            entity_id="https://idp.example", metadata_xml="<x/>",
                            organisations=organisations,
                            roles={"privacy_officer": ("privacy-officer",), "admin": ("boss",)})


def claim(identifier, branch=None, assurance=None, roles=("privacy-officer",)) -> Claim:
    return Claim(identifier, branch, frozenset(roles), "Naam", assurance)


def resolve(db, provider, asserted):
    with db.session() as session:
        return resolve_organisation(session, provider, asserted)


def test_an_entree_brin_names_the_school_that_carries_it(db):
    assert resolve(db, idp("entree"), claim("12AB")) == SCHOOL
    assert resolve(db, idp("entree"), claim("34CD")) == OTHER_SCHOOL


def test_an_unknown_brin_is_refused(db):
    with pytest.raises(NotVouched) as refused:
        resolve(db, idp("entree"), claim("99ZZ"))
    assert refused.value.reason == "saml_organisation_unknown"
    assert "99ZZ" in refused.value.message and "niet bij de gateway geregistreerd" in refused.value.message


def test_an_explicit_list_limits_what_the_idp_may_vouch_for(db):
    only_one = idp("entree", organisations=(SCHOOL,))
    assert resolve(db, only_one, claim("12AB")) == SCHOOL
    with pytest.raises(NotVouched) as refused:
        resolve(db, only_one, claim("34CD"))
    assert refused.value.reason == "saml_idp_not_vouched"
    assert refused.value.actor_org == OTHER_SCHOOL


def test_the_vestigingsnummer_picks_the_branch_and_without_it_the_kvk_number(db):
    broker = idp("eherkenning")
    assert resolve(db, broker, claim("12345678", "000012345678", LOA3)) == LEERPLICHT
    assert resolve(db, broker, claim("12345678", None, LOA3)) == WIJ


@pytest.mark.parametrize(
    "level", [None, "urn:etoegang:core:assurance-class:loa2", "urn:etoegang:core:assurance-class:loa2plus",
              "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"])
def test_an_assurance_level_below_loa3_is_refused(db, level):
    with pytest.raises(NotVouched) as refused:
        resolve(db, idp("eherkenning"), claim("12345678", None, level))
    assert refused.value.reason == "saml_assurance_too_low"
    assert "EH3" in refused.value.message


def test_loa3_and_loa4_suffice():
    assert sufficient_assurance(LOA3)
    assert sufficient_assurance("urn:etoegang:core:assurance-class:loa4")
    assert loa_rank("urn:etoegang:core:assurance-class:loa2") < loa_rank(LOA3)


def test_an_oin_idp_without_a_list_keeps_todays_behaviour(db):
    """The ``saml:`` block's IdP: the asserted OIN, even an unregistered one (the person then
    gets the 'no access' page, as before issue 21)."""
    assert resolve(db, idp("oin"), claim("00000001999999999000")) == "00000001999999999000"
    with pytest.raises(NotVouched):
        resolve(db, idp("oin", organisations=(SCHOOL,)), claim(LEERPLICHT))


def test_roles_are_mapped_per_idp():
    assert roles_of(claim("x", roles=("privacy-officer", "boss", "teacher")), idp("entree")) == (
        "admin", "privacy_officer")
    assert roles_of(claim("x", roles=("teacher",)), idp("entree")) == ()
