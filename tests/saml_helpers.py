"""A real SAML identity provider for tests: pysaml2's own IdP (``saml2.server.Server``).

It answers the gateway's real AuthnRequests with responses that pysaml2 builds and xmlsec1
signs, as any pysaml2-based IdP would. To test refusals it can change a response *before*
signing (wrong audience, recipient, times, algorithms, another key), so that the signature
is valid and the gateway must refuse for the reason under test; attacks that need a valid
signature on a changed document (XSW, comments) change it *after* signing.

XML is edited with ``xml.dom.minidom``, which keeps prefixes and namespace declarations as
they are, so an unchanged document still verifies after a round trip (a control test checks
this, so that no refusal passes only because the tooling broke the signature).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.dom import minidom

from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from gateway.saml.credentials import self_signed
from tests.limits import FLOOD_LIMIT

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
ROLE = "urn:oid:1.3.6.1.4.1.5923.1.1.1.7"
ORG = "urn:nl:oin"
NAME = "urn:oid:2.16.840.1.113730.3.1.241"
OPERATOR = "00000001006789012000"
SCHOOL = "00000001001234567000"
ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"


@dataclass(frozen=True)
class Person:
    name_id: str
    roles: tuple[str, ...]
    org: str
    display_name: str = "Test Persoon"


OPERATOR_OFFICER = Person("officer@beheer.test", ("privacy-officer",), OPERATOR, "Olga Officier")
OPERATOR_ADMIN = Person("admin@beheer.test", ("gateway-admin",), OPERATOR, "Adam Beheer")
SCHOOL_OFFICER = Person("officer@school.test", ("privacy-officer",), SCHOOL, "Sanne School")
NO_ROLE = Person("teacher@school.test", ("teacher",), SCHOOL, "Tom Leraar")


def write_pair(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = self_signed(f"test {name}", bits=2048)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.key").write_bytes(key)
    (directory / f"{name}.crt").write_bytes(cert)
    return directory / f"{name}.key", directory / f"{name}.crt"


class TestIdp:
    """``TestIdp(folder)``; ``bind(sp_metadata)`` before answering requests."""

    __test__ = False
    ENTITY_ID = "https://idp.test.example/metadata"
    SSO_URL = "https://idp.test.example/sso"
    SLO_URL = "https://idp.test.example/slo"

    def __init__(self, directory: Path) -> None:
        self.key_file, self.cert_file = write_pair(directory, "idp")
        self.other_key_file, _ = write_pair(directory, "attacker")
        self.server: Server | None = None

    def config(self, sp_metadata: str | None) -> IdPConfig:
        config = IdPConfig()
        config.load({
            "entityid": self.ENTITY_ID,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            "service": {"idp": {
                "endpoints": {
                    "single_sign_on_service": [(self.SSO_URL, BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(self.SLO_URL, BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        return config

    def metadata(self) -> str:
        return create_metadata_string(None, self.config(None), 4, None, None, None, None,
                                      None).decode()

    def bind(self, sp_metadata: str) -> None:
        self.server = Server(config=self.config(sp_metadata))

    def read_request(self, location: str):
        """The AuthnRequest in the gateway's redirect to our SSO URL."""
        assert location.startswith(self.SSO_URL), location
        query = parse_qs(urlparse(location).query)
        return self.server.parse_authn_request(query["SAMLRequest"][0],
                                               BINDING_HTTP_REDIRECT).message

    def unsigned(self, request, person: Person) -> str:
        identity = {ROLE: list(person.roles), ORG: [person.org], NAME: [person.display_name]}
        response = self.server.create_authn_response(
            identity,
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=person.name_id),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_response=False,
            sign_assertion=False,
        )
        return str(response)

    def respond(
        self,
        request,
        person: Person = OPERATOR_OFFICER,
        *,
        change: Callable[[Document], None] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = True,
        sign_alg: str = SIG_RSA_SHA256,
        digest_alg: str = DIGEST_SHA256,
        key_file: Path | None = None,
    ) -> str:
        """A signed response XML; ``change`` edits it before it is signed."""
        document = Document(self.unsigned(request, person))
        if change:
            change(document)
        key = str(key_file or self.key_file)
        if sign_assertion:
            document.add_template(document.assertion, sign_alg, digest_alg, 1)
        if sign_response:
            document.add_template(document.response, sign_alg, digest_alg, 2)
        xml = document.xml()
        crypto = self.server.sec.crypto
        if sign_assertion:
            xml = crypto.sign_statement(xml, ASSERTION_NODE, key, Document(xml).assertion_id)
        if sign_response:
            xml = crypto.sign_statement(xml, RESPONSE_NODE, key, Document(xml).response_id)
        return xml if isinstance(xml, str) else xml.decode()


class Document:
    """A minidom view of a SAML response with the few edits the tests need."""

    def __init__(self, xml: str) -> None:
        xml = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)
        self.dom = minidom.parseString(xml)

    @property
    def response(self):
        return self.dom.documentElement

    @property
    def assertion(self):
        return self.all(SAML, "Assertion")[0]

    @property
    def assertion_id(self) -> str:
        return self.assertion.getAttribute("ID")

    @property
    def response_id(self) -> str:
        return self.response.getAttribute("ID")

    def all(self, namespace: str, name: str, within=None) -> list:
        return list((within or self.dom).getElementsByTagNameNS(namespace, name))

    def first(self, namespace: str, name: str, within=None):
        return self.all(namespace, name, within)[0]

    def child(self, parent, namespace: str, name: str):
        for node in parent.childNodes:
            if node.nodeType == node.ELEMENT_NODE and node.namespaceURI == namespace \
                    and node.localName == name:
                return node
        return None

    def signature_of(self, element):
        return self.child(element, DS, "Signature")

    def name_id(self):
        return self.first(SAML, "NameID", self.assertion)

    def set_text(self, element, text: str) -> None:
        for node in list(element.childNodes):
            element.removeChild(node)
        element.appendChild(self.dom.createTextNode(text))

    def add_template(self, element, sign_alg: str, digest_alg: str, number: int) -> None:
        """A ``ds:Signature`` template right after ``element``'s Issuer (SAML's place)."""
        template = str(pre_signature_part(element.getAttribute("ID"), None, number,
                                          digest_alg=digest_alg, sign_alg=sign_alg))
        node = self.dom.importNode(minidom.parseString(template).documentElement, True)
        issuer = self.child(element, SAML, "Issuer")
        element.insertBefore(node, issuer.nextSibling if issuer else element.firstChild)

    def xml(self) -> str:
        return self.response.toxml()


def encode(xml: str) -> str:
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def sp_flow_start(client, next_path: str | None = None) -> str:
    """GET /login on the Flask test client; the IdP URL it redirects to."""
    url = "/login" + (f"?next={next_path}" if next_path else "")
    response = client.get(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def post_response(client, xml: str, relay_state: str | None = "/ui/"):
    data = {"SAMLResponse": encode(xml)}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return client.post("/saml/acs", data=data)


def session_cookie(response) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(("gateway_session=", "__Host-gateway_session=")):
            value = header.split(";", 1)[0].split("=", 1)[1]
            return value or None
    return None


ORGANISATIONS = [
    ("00000001001234567000", "OBS De Regenboog", "school"),
    ("00000001002345678000", "SWV Groningen Stad", "swv"),
    ("00000001003456789000", "GGD Groningen", "ggd"),
    ("00000001004567890000", "WIJ Groningen", "wij"),
    ("00000001005678901000", "Leerplicht Groningen", "leerplicht"),
    ("00000001006789012000", "Gateway Beheer", "operator"),
]


def bootstrap_file(folder: Path, metadata: str | None, saml_extra: str = "") -> Path:
    """A bootstrap file with the demo organisations and (when given) a ``saml:`` block."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["organisations:"]
    for oin, name, type_ in ORGANISATIONS:
        lines += [f'  - oin: "{oin}"', f'    name: "{name}"', f"    type: {type_}"]
    if metadata is not None:
        (folder / "idp.xml").write_text(metadata)
        lines += ["saml:", "  idp_metadata_file: idp.xml"]
        lines += [f"  {line}" for line in saml_extra.splitlines() if line.strip()]
    path = folder / "bootstrap.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def apply_file(database_url: str, path: Path, production: bool = False):
    from gateway.audit.log import AuditLog
    from gateway.bootstrap import apply_bootstrap, read_bootstrap
    from gateway.storage.database import Database

    db = Database(database_url)
    try:
        return apply_bootstrap(db, read_bootstrap(path, production=production), AuditLog())
    finally:
        db.dispose()


def migrated_sqlite(folder: Path) -> str:
    """A fresh, migrated SQLite database in ``folder`` (for module-scoped apps)."""
    from gateway.storage import migrate
    from gateway.storage.database import Database

    url = f"sqlite:///{folder / 'gateway.db'}"
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    return url


def forget_logins(app) -> None:
    """Delete sessions, outstanding requests and used assertion IDs (between tests), and
    note how many ``auth.failure`` events exist so a test can count its own."""
    from sqlalchemy import delete, func, select

    from gateway.audit.models import AuditEventRow
    from gateway.saml.models import SamlAssertionRow, SamlRequestRow
    from gateway.web.models import WebSessionRow

    with app.extensions["gateway"].db.session() as session:
        for table in (WebSessionRow, SamlRequestRow, SamlAssertionRow):
            session.execute(delete(table))
        app.config["FAILURES_BEFORE"] = session.scalar(
            select(func.count()).select_from(AuditEventRow).where(
                AuditEventRow.action == "auth.failure")
        )


def login(client, idp: TestIdp, person: Person = OPERATOR_OFFICER, next_path=None, **options):
    """The whole SP-initiated flow against ``idp``; the ACS response."""
    request = idp.read_request(sp_flow_start(client, next_path))
    return post_response(client, idp.respond(request, person, **options), next_path)


def devidp_login(client, user_key: str, next_path: str | None = None):
    """The whole flow through the built-in development IdP; the ACS response."""
    location = sp_flow_start(client, next_path)
    parts = urlparse(location)
    page = client.get(parts.path + "?" + parts.query)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState|token)" value="([^"]*)"', html))
    answer = client.post("/devidp/sso", data={**fields, "user": user_key})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    html = answer.get_data(as_text=True)
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', html))
    return client.post("/saml/acs", data=fields)


def gateway_app(folder: Path, keys_dir: Path, metadata: str | None = None, **settings):
    """A gateway on its own migrated SQLite database with the demo organisations (and a
    ``saml:`` block when ``metadata`` is given); ``settings`` override ``Settings`` fields."""
    from gateway import create_app
    from gateway.config import Settings

    url = migrated_sqlite(folder)
    production = settings.get("env") == "production"
    apply_file(url, bootstrap_file(folder, metadata), production=production)
    app = create_app(Settings(database_url=url, keys_dir=keys_dir,
                                  **({"rate_limit_address": FLOOD_LIMIT} | settings)))
    app.config["TESTING"] = True
    return app
