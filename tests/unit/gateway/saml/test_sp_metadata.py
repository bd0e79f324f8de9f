"""The SP metadata (issue 21): both ACS endpoints (HTTP-POST and HTTP-Artifact), the signing
certificate, and every encryption certificate: two while a key rotation overlaps."""

from __future__ import annotations

import shutil

from defusedxml.ElementTree import fromstring

from gateway.config import Settings
from gateway.saml.credentials import self_signed
from gateway.saml.provider import ServiceProvider
from gateway.storage.database import Database

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def certificates(document: str, use: str) -> list[str]:
    root = fromstring(document.encode(), forbid_dtd=True)
    return [
        "".join(cert.text.split())
        for key in root.iter(f"{MD}KeyDescriptor")
        if key.get("use") == use
        for cert in key.iter(f"{DS}X509Certificate")
    ]


def der_base64(pem: bytes) -> str:
    return "".join(line for line in pem.decode().splitlines() if "CERTIFICATE" not in line)


def test_the_metadata_publishes_both_encryption_keys_during_a_rotation(sqlite_url, keys_dir,
                                                                        tmp_path):
    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys)
    settings = Settings(env="development", database_url=sqlite_url, keys_dir=keys,
                        base_url="https://gateway.example")
    db = Database(sqlite_url)
    provider = ServiceProvider(settings, db)
    try:
        before = provider.metadata()
        current = (keys / "saml" / "encryption.crt").read_bytes()
        assert certificates(before, "encryption") == [der_base64(current)]

        key, cert = self_signed("next encryption key", bits=2048)
        (keys / "saml" / "encryption-next.key").write_bytes(key)
        (keys / "saml" / "encryption-next.crt").write_bytes(cert)
        during = provider.metadata()

        assert certificates(during, "encryption") == [der_base64(current), der_base64(cert)]
        assert len(provider.decryption_keys()) == 2
        root = fromstring(during.encode(), forbid_dtd=True)
        services = {(s.get("Binding"), s.get("Location"))
                    for s in root.iter(f"{MD}AssertionConsumerService")}
        assert services == {
            ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "https://gateway.example/saml/acs"),
            ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
             "https://gateway.example/saml/acs/artifact"),
        }
        assert len(certificates(during, "signing")) == 1
    finally:
        db.dispose()
