"""IdP metadata (issue 21): a signed aggregate is verified with its signer's certificate only,
one flipped byte refuses it, ``validUntil`` in the past refuses it, ``cacheDuration`` sets the
next refresh, and a failed refresh keeps the last good copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from gateway.saml import metadata
from gateway.saml.metadata import MetadataError, next_refresh, parse_duration, read_metadata
from tests.federation.simplesamlphp import flip_one_byte, session_keys, signed_aggregate

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def idp(entity_id: str) -> str:
    cert = session_keys("metadata idp").cert_base64
    return (
        f'<md:EntityDescriptor xmlns:md="{MD}" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        '</md:KeyDescriptor><md:SingleSignOnService '
        'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{entity_id}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
    )


@pytest.fixture(scope="module")
def federation():
    return session_keys("metadata federation")


@pytest.fixture(scope="module")
def aggregate(federation):
    return signed_aggregate(
        [idp("https://idp-a.example"), idp("https://idp-b.example")],
        federation.key_pem,
        federation.cert_pem,
        datetime(2027, 1, 1, tzinfo=UTC),
        timedelta(hours=2),
    )


def test_a_signed_aggregate_yields_only_the_named_idp(aggregate, federation):
    entity_id, found = read_metadata(
        aggregate, "https://idp-b.example", federation.cert_pem.decode(), NOW
    )
    assert entity_id == "https://idp-b.example"
    assert 'entityID="https://idp-b.example"' in found.entity_xml
    assert "idp-a.example" not in found.entity_xml
    assert found.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert found.cache_duration == timedelta(hours=2)


def test_one_flipped_byte_refuses_the_aggregate(aggregate, federation):
    with pytest.raises(MetadataError, match="signature does not verify"):
        read_metadata(flip_one_byte(aggregate), "https://idp-b.example",
                      federation.cert_pem.decode(), NOW)


def test_another_signer_is_refused(aggregate):
    other = session_keys("another federation").cert_pem.decode()
    with pytest.raises(MetadataError, match="signature does not verify"):
        read_metadata(aggregate, "https://idp-b.example", other, NOW)


def test_an_unsigned_document_is_refused_when_a_signer_is_configured(federation):
    with pytest.raises(MetadataError, match="not signed"):
        read_metadata(idp("https://idp-a.example").encode(), None,
                      federation.cert_pem.decode(), NOW)


def test_an_expired_valid_until_is_refused(aggregate, federation):
    with pytest.raises(MetadataError, match="expired"):
        read_metadata(aggregate, "https://idp-a.example", federation.cert_pem.decode(),
                      datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))


def test_a_dtd_is_refused():
    with pytest.raises(MetadataError, match="well-formed"):
        read_metadata(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', None, None, NOW)


def test_an_idp_not_in_the_document_is_refused(aggregate, federation):
    with pytest.raises(MetadataError, match="no IdP https://idp-c.example"):
        read_metadata(aggregate, "https://idp-c.example", federation.cert_pem.decode(), NOW)


def test_cache_duration_sets_the_next_refresh_but_never_after_valid_until():
    assert parse_duration("PT3600S") == timedelta(hours=1)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    found = metadata.IdpMetadata("<x/>", NOW + timedelta(minutes=5), timedelta(hours=1))
    assert next_refresh(NOW, found) == NOW + timedelta(minutes=5)
    assert next_refresh(NOW, metadata.IdpMetadata("<x/>", None, None)) == NOW + timedelta(hours=6)
    with pytest.raises(MetadataError):
        parse_duration("soon")


def test_a_failed_refresh_keeps_the_last_good_copy(monkeypatch, aggregate, federation):
    row = SimpleNamespace(
        key="entree", metadata_url="https://federation.example/md.xml",
        entity_id="https://idp-a.example", metadata_signer=federation.cert_pem.decode(),
        metadata_xml="<last-good/>", valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        fetched_at=None, refresh_at=None, metadata_error=None,
    )
    monkeypatch.setattr(metadata, "fetch", lambda url: flip_one_byte(aggregate))

    assert metadata.refresh_row(row, NOW) is False
    assert row.metadata_xml == "<last-good/>"
    assert "signature" in row.metadata_error
    assert row.refresh_at == NOW + metadata.RETRY_AFTER_FAILURE

    monkeypatch.setattr(metadata, "fetch", lambda url: aggregate)
    assert metadata.refresh_row(row, NOW) is True
    assert 'entityID="https://idp-a.example"' in row.metadata_xml
    assert row.metadata_error is None and row.fetched_at == NOW
    assert row.refresh_at == NOW + timedelta(hours=2)
