"""Two real SAML identity providers for the federated sign-in tests: SimpleSAMLphp 1.19.

Why real ones: the gateway's own test IdP (``tests/saml_helpers.py``) is pysaml2, the same
library the gateway's SP is built on, so a shared misreading of the standard would pass
unnoticed. These IdPs are Debian's ``simplesamlphp`` package (files in
``/usr/share/simplesamlphp``), the IdP software many Dutch federation members and brokers run
or started from; ``make system-deps-test`` installs it with ``php-cli`` and the PHP modules it
needs. Nothing in ``/etc/simplesamlphp`` is used or changed: each IdP gets its own config,
metadata, cert, data and log directories under the caller's (pytest) tmp dir, named to
SimpleSAMLphp by ``SIMPLESAMLPHP_CONFIG_DIR``, and runs as one ``php -S 127.0.0.1:<free port>``
process (PHP's built-in server, a few workers) over ``/usr/share/simplesamlphp/www``, with a
small router script in front (see "Artifact back channel").

The two kinds (``start_idp(kind, ...)``)
--------------------------------------
``"eherkenning"`` imitates an eHerkenning broker ("makelaar"):

- answers only by HTTP-Artifact: the browser is redirected to the SP's artifact
  AssertionConsumerService with ``SAMLart`` (and ``RelayState``); the front channel never
  carries the ``<Response>``. The SP's metadata must offer an ACS with the HTTP-Artifact
  binding (ACS endpoints of other bindings are ignored, as a broker ignores them);
- the SP fetches the response with a SOAP ``ArtifactResolve`` from
  ``IdpHandle.artifact_resolution_url`` (published in the IdP's metadata);
- the assertion is signed and then encrypted for the SP (``assertion.encryption``) with the
  certificate of the SP metadata's ``KeyDescriptor use="encryption"`` (RSA-OAEP key transport);
  the ``Response`` and the ``ArtifactResponse`` are signed too;
- attributes (URI name format): ``urn:etoegang:1.9:EntityConcernedID:KvKnr`` (8 digits),
  optionally ``urn:etoegang:1.9:ServiceRestriction:Vestigingsnr`` (12 digits), the role in
  ``urn:oid:1.3.6.1.4.1.5923.1.1.1.7`` (the gateway's default role attribute) and a display name
  in ``urn:oid:2.16.840.1.113730.3.1.241``. Simplification: eHerkenning 1.9+ brokers send the
  KvK number as the NameID value of ``urn:etoegang:core:LegalSubjectID`` qualified by
  ``urn:etoegang:1.9:EntityConcernedID:KvKnr``; the harness sends a plain attribute of that name,
  and eHerkenning itself has no role attribute (authorisation is per service);
- ``AuthnContextClassRef`` per user: the level of assurance
  (``urn:etoegang:core:assurance-class:loa3`` for ``kvk-loa3``, ``...:loa2`` for ``kvk-loa2``).
  SimpleSAMLphp 1.19 takes it from ``$state['saml:AuthnContextClassRef']``; a ``core:PHP``
  authproc filter sets it from the user's record (its ``saml:AuthnContextClassRef`` filter
  would set one value for everybody).

``"entree"`` imitates an Entree (Kennisnet) IdP: HTTP-POST binding, the assertion and the
response signed (RSA-SHA256), not encrypted; attributes with basic names as Entree sends them:
``uid``, ``nlEduPersonHomeOrganizationId`` (the school's BRIN, e.g. ``12AB``),
``eduPersonEntitlement`` (the role) and ``displayName``.

Both: NameID persistent (the user's ``name_id``, default the user name), signed AuthnRequests
required (``validate.authnrequest``, on by default: real federations require them; the IdP's
metadata then says ``WantAuthnRequestsSigned="true"``), SHA-256 signatures, single logout at
``/saml2/idp/SingleLogoutService.php``, the login form of ``exampleauth:UserPass`` (fields
``username``/``password``).

Default users (``DEFAULT_USERS``; pass ``users=`` to replace them, values are ``IdpUser``):

==============  ========================  ===========================================
kind            user / password           attributes
==============  ========================  ===========================================
eherkenning     kvk-loa3 / kvk-loa3-pw    KvK 12345678, vestiging 000012345678,
                                          role privacy-officer, loa3
eherkenning     kvk-loa2 / kvk-loa2-pw    KvK 12345678, role privacy-officer, loa2
eherkenning     kvk-other / kvk-other-pw  KvK 87654321, role privacy-officer, loa3
entree          entree-officer / ...-pw   BRIN 12AB, role privacy-officer
entree          entree-other / ...-pw     BRIN 34CD, role privacy-officer
==============  ========================  ===========================================

Artifact back channel
---------------------
A real eHerkenning broker resolves artifacts over mutually authenticated TLS (both sides
present PKIoverheid certificates) and the ``ArtifactResolve`` and ``ArtifactResponse`` are
signed as well. PHP's built-in server speaks plain HTTP only, so the harness cannot offer TLS
at all; instead the back channel is signed both ways, by the router in front of SimpleSAMLphp:

- it refuses (HTTP 403, SOAP fault) an ``ArtifactResolve`` that is not signed by a signing key
  of the SP's metadata; SimpleSAMLphp 1.19 would answer an unsigned one.
  ``require_signed_artifact_resolve=False`` turns the check off;
- it signs the ``ArtifactResponse`` again (RSA-SHA256, exclusive c14n, the IdP's signing key)
  as it is sent: SimpleSAMLphp 1.19 signs it over a DOM into which the ``Response`` was
  imported, and that signature verifies neither with xmlsec1 nor with SimpleSAMLphp's own code.

The inner ``Response`` is not signed by SimpleSAMLphp on this path; the assertion inside the
``EncryptedAssertion`` is. An artifact is answered once: a second resolve gets an
``ArtifactResponse`` without a ``Response``.

How the SP side uses it
-----------------------
::

    handle = start_idp("eherkenning", sp_metadata_xml, tmp_dir)   # once per session
    # register handle.metadata_xml (or handle.metadata_url, or a signed_aggregate of it)
    result = handle.login(requests.Session(), "http://127.0.0.1:PORT/login?idp=...",
                          "kvk-loa3", "kvk-loa3-pw")
    result.url          # the SP's ACS with SAMLart & RelayState (artifact) / the form action
    result.saml_art, result.relay_state, result.saml_response, result.html
    handle.set_sp_metadata(new_xml)   # e.g. after a key rotation; read on the next request
    handle.configure(encrypt_assertion=False)   # change the running IdP, no restart
    handle.stop()

``login`` plays the browser (requests + the HTML form; no JavaScript): it follows the SP's
redirect to the IdP, fills in the form, and stops at what the IdP sends back to the SP through
the browser, which it does not deliver: the test posts ``saml_response`` to ``result.url``, or
GETs ``result.url``, with the same session. ``resolve_artifact`` sends a signed (or, for the
refusal test, unsigned) ``ArtifactResolve`` as an SP would. ``signed_aggregate``,
``flip_one_byte`` and ``MetadataServer`` make a federation's signed metadata aggregate, break
it, and serve it by URL.
"""

from __future__ import annotations

import atexit
import base64
import functools
import html
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse
from xml.dom import minidom

import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml.ElementTree import fromstring

from gateway.saml.credentials import self_signed

SSP_ROOT = Path("/usr/share/simplesamlphp")
SSP_WWW = SSP_ROOT / "www"
KINDS = ("eherkenning", "entree")

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
NAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

# eHerkenning (URI names)
KVK = "urn:etoegang:1.9:EntityConcernedID:KvKnr"
VESTIGING = "urn:etoegang:1.9:ServiceRestriction:Vestigingsnr"
ROLE_URI = "urn:oid:1.3.6.1.4.1.5923.1.1.1.7"
NAME_URI = "urn:oid:2.16.840.1.113730.3.1.241"
LOA2 = "urn:etoegang:core:assurance-class:loa2"
LOA3 = "urn:etoegang:core:assurance-class:loa3"
# Entree (basic names)
BRIN = "nlEduPersonHomeOrganizationId"
ENTREE_ROLE = "eduPersonEntitlement"
ENTREE_NAME = "displayName"
ENTREE_UID = "uid"

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"

START_TIMEOUT = 20.0
HTTP_TIMEOUT = 10.0
WORKERS = 3


class HarnessError(RuntimeError):
    """The harness itself failed (PHP missing, an IdP that does not start, an odd page)."""


class IdpLoginError(HarnessError):
    """The IdP did not send the browser back to the SP; ``html`` is the page it showed."""

    def __init__(self, message: str, html_text: str, url: str) -> None:
        super().__init__(f"{message} (at {url})")
        self.html = html_text
        self.url = url


# ---------------------------------------------------------------------------------------
# keys


@dataclass(frozen=True)
class KeyPair:
    """An RSA key (PKCS#8 PEM) and its self-signed certificate (PEM)."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def cert_base64(self) -> str:
        """The certificate's DER in base64, as ``ds:X509Certificate`` carries it."""
        der = x509.load_pem_x509_certificate(self.cert_pem).public_bytes(Encoding.DER)
        return base64.b64encode(der).decode("ascii")

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """``name.key`` and ``name.crt`` in ``directory`` (for xmlsec1 and pysaml2)."""
        directory.mkdir(parents=True, exist_ok=True)
        key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
        key_file.write_bytes(self.key_pem)
        key_file.chmod(0o600)
        cert_file.write_bytes(self.cert_pem)
        return key_file, cert_file


@functools.cache
def session_keys(label: str) -> KeyPair:
    """A key pair per label, made once per test session (process): RSA 2048, SHA-256."""
    key_pem, cert_pem = self_signed(f"federation harness {label}", bits=2048)
    return KeyPair(key_pem, cert_pem)


# ---------------------------------------------------------------------------------------
# users


@dataclass(frozen=True)
class IdpUser:
    """One account of an IdP: its password, the attributes it asserts and its assurance.

    ``attributes`` maps attribute names (as sent) to values; ``authn_context`` is the
    ``AuthnContextClassRef`` of its assertions (None: SimpleSAMLphp's default,
    ``urn:oasis:names:tc:SAML:2.0:ac:classes:Password``); ``name_id`` the persistent NameID
    (None: the user name).
    """

    password: str
    attributes: Mapping[str, tuple[str, ...]]
    authn_context: str | None = None
    name_id: str | None = None


def eherkenning_user(
    password: str,
    kvk: str,
    *,
    vestiging: str | None = None,
    roles: Iterable[str] = ("privacy-officer",),
    loa: str | None = LOA3,
    display_name: str = "Test Ondernemer",
    name_id: str | None = None,
) -> IdpUser:
    """An eHerkenning account: a KvK number (8 digits), optionally a vestigingsnummer."""
    attributes: dict[str, tuple[str, ...]] = {
        KVK: (kvk,),
        ROLE_URI: tuple(roles),
        NAME_URI: (display_name,),
    }
    if vestiging is not None:
        attributes[VESTIGING] = (vestiging,)
    return IdpUser(password, attributes, loa, name_id)


def entree_user(
    password: str,
    brin: str,
    *,
    uid: str,
    roles: Iterable[str] = ("privacy-officer",),
    display_name: str = "Test Docent",
    name_id: str | None = None,
) -> IdpUser:
    """An Entree account: the school's BRIN in ``nlEduPersonHomeOrganizationId``."""
    attributes = {
        ENTREE_UID: (uid,),
        BRIN: (brin,),
        ENTREE_ROLE: tuple(roles),
        ENTREE_NAME: (display_name,),
    }
    return IdpUser(password, attributes, None, name_id)


DEFAULT_USERS: dict[str, dict[str, IdpUser]] = {
    "eherkenning": {
        "kvk-loa3": eherkenning_user("kvk-loa3-pw", "12345678", vestiging="000012345678", loa=LOA3),
        "kvk-loa2": eherkenning_user("kvk-loa2-pw", "12345678", loa=LOA2),
        "kvk-other": eherkenning_user("kvk-other-pw", "87654321", loa=LOA3),
    },
    "entree": {
        "entree-officer": entree_user("entree-officer-pw", "12AB", uid="entree-officer"),
        "entree-other": entree_user("entree-other-pw", "34CD", uid="entree-other"),
    },
}


# ---------------------------------------------------------------------------------------
# SimpleSAMLphp's configuration (PHP files that read one JSON file the harness writes)

CONFIG_PHP = r"""<?php
// Written by tests/federation/simplesamlphp.py: everything comes from harness.json.
$harness = json_decode(file_get_contents(__DIR__ . '/harness.json'), true, 512, JSON_THROW_ON_ERROR);
$config = [
    'baseurlpath' => $harness['base_url'] . '/',
    'certdir' => $harness['cert_dir'] . '/',
    'loggingdir' => $harness['log_dir'] . '/',
    'datadir' => $harness['data_dir'] . '/',
    'tempdir' => $harness['temp_dir'],
    'metadatadir' => $harness['metadata_dir'] . '/',
    'metadata.sources' => [['type' => 'flatfile', 'directory' => $harness['metadata_dir']]],
    'secretsalt' => $harness['secret_salt'],
    'auth.adminpassword' => $harness['admin_password'],
    'technicalcontact_name' => 'Federation test harness',
    'technicalcontact_email' => 'harness@example.org',
    'timezone' => 'UTC',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'store.type' => 'sql',
    'store.sql.dsn' => 'sqlite:' . $harness['data_dir'] . '/store.sqlite',
    'session.cookie.name' => $harness['cookie_prefix'] . 'SessionID',
    'session.phpsession.cookiename' => $harness['cookie_prefix'] . 'PHPSESSID',
    'session.authtoken.cookiename' => $harness['cookie_prefix'] . 'AuthToken',
    'session.phpsession.savepath' => $harness['data_dir'],
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'language.default' => 'en',
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::INFO,
    'showerrors' => true,
    'errorreporting' => false,
    'admin.checkforupdates' => false,
    'admin.protectmetadata' => false,
    'production' => false,
];
"""

AUTHSOURCES_PHP = r"""<?php
// The users of harness.json as one exampleauth:UserPass source ('name:password' => attributes);
// the harness: attributes carry the assurance and the NameID to the core:PHP filter.
$harness = json_decode(file_get_contents(__DIR__ . '/harness.json'), true, 512, JSON_THROW_ON_ERROR);
$users = ['exampleauth:UserPass'];
foreach ($harness['users'] as $name => $user) {
    $attributes = $user['attributes'];
    $attributes['harness:name-id'] = [$user['name_id']];
    if ($user['authn_context'] !== null) {
        $attributes['harness:authn-context'] = [$user['authn_context']];
    }
    $users[$name . ':' . $user['password']] = $attributes;
}
$config = [
    'admin' => ['core:AdminPassword'],
    'harness' => $users,
];
"""

IDP_HOSTED_PHP = r"""<?php
// The hosted IdP of harness.json, and a filter that moves the user's assurance and NameID out
// of its attributes into the state SimpleSAMLphp 1.19 builds the assertion from.
$harness = json_decode(
    file_get_contents(getenv('SIMPLESAMLPHP_CONFIG_DIR') . '/harness.json'), true, 512, JSON_THROW_ON_ERROR
);
$metadata[$harness['entity_id']] = $harness['idp'] + [
    'authproc' => [
        50 => [
            'class' => 'core:PHP',
            'code' => '
                if (isset($attributes["harness:authn-context"])) {
                    $state["saml:AuthnContextClassRef"] = $attributes["harness:authn-context"][0];
                }
                $nameId = new \SAML2\XML\saml\NameID();
                $nameId->setValue($attributes["harness:name-id"][0]);
                $nameId->setFormat("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");
                $state["saml:NameID"]["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"] = $nameId;
                unset($attributes["harness:authn-context"], $attributes["harness:name-id"]);
            ',
        ],
    ],
];
"""

SP_REMOTE_PHP = r"""<?php
// The SP(s) of sp.xml as SimpleSAMLphp parses remote metadata, with the harness's overrides and
// only the AssertionConsumerService endpoints of the bindings this IdP answers by.
$harness = json_decode(
    file_get_contents(getenv('SIMPLESAMLPHP_CONFIG_DIR') . '/harness.json'), true, 512, JSON_THROW_ON_ERROR
);
$xml = file_get_contents($harness['sp_metadata_file']);
foreach (\SimpleSAML\Metadata\SAMLParser::parseDescriptorsString($xml) as $entityId => $entity) {
    $sp = $entity->getMetadata20SP();
    if ($sp === null) {
        continue;
    }
    $sp = array_merge($sp, $harness['sp_overrides']);
    $sp['AssertionConsumerService'] = array_values(array_filter(
        $sp['AssertionConsumerService'],
        fn ($endpoint) => in_array($endpoint['Binding'], $harness['acs_bindings'], true)
    ));
    $metadata[$entityId] = $sp;
}
"""

ROUTER_PHP = r"""<?php
// PHP's built-in server runs this before every request. It serves everything as is, except
// the ArtifactResolutionService: an ArtifactResolve must be signed by the SP (SimpleSAMLphp
// 1.19 does not check it), and the ArtifactResponse is signed again as it is sent (1.19 signs
// it before the imported Response is serialised, and that signature does not verify).
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/saml2/idp/ArtifactResolutionService.php') {
    return false;
}
require_once '/usr/share/simplesamlphp/lib/_autoload.php';
$harness = json_decode(
    file_get_contents(getenv('SIMPLESAMLPHP_CONFIG_DIR') . '/harness.json'), true, 512, JSON_THROW_ON_ERROR
);
$refusal = $harness['require_signed_artifact_resolve']
    ? harness_artifact_resolve_refusal(file_get_contents('php://input'))
    : null;
if ($refusal !== null) {
    harness_log($harness, "refused: $refusal");
    http_response_code(403);
    header('Content-Type: text/xml');
    echo '<?xml version="1.0" encoding="UTF-8"?>'
        . '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
        . '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>'
        . htmlspecialchars($refusal, ENT_XML1) . '</faultstring></SOAP-ENV:Fault>'
        . '</SOAP-ENV:Body></SOAP-ENV:Envelope>';
    return true;
}
ob_start(fn (string $buffer) => harness_resign_artifact_response($harness, $buffer));
chdir('/usr/share/simplesamlphp/www/saml2/idp');
require '/usr/share/simplesamlphp/www/saml2/idp/ArtifactResolutionService.php';
return true;

function harness_log(array $harness, string $line): void
{
    file_put_contents($harness['log_dir'] . '/router.log', date('c') . " $line\n", FILE_APPEND);
}

function harness_artifact_resolve_refusal(string $body): ?string
{
    try {
        $document = \SAML2\DOMDocumentFactory::fromString($body);
        $xpath = new DOMXPath($document);
        $xpath->registerNamespace('soap', 'http://schemas.xmlsoap.org/soap/envelope/');
        $xpath->registerNamespace('samlp', 'urn:oasis:names:tc:SAML:2.0:protocol');
        $nodes = $xpath->query('/soap:Envelope/soap:Body/samlp:ArtifactResolve');
        if ($nodes->length !== 1) {
            return 'the SOAP body holds no single ArtifactResolve';
        }
        $request = \SAML2\Message::fromXML($nodes->item(0));
        $issuer = $request->getIssuer();
        if ($issuer === null) {
            return 'the ArtifactResolve names no Issuer';
        }
        $handler = \SimpleSAML\Metadata\MetaDataStorageHandler::getMetadataHandler();
        $sp = $handler->getMetaDataConfig($issuer->getValue(), 'saml20-sp-remote');
        if (!\SimpleSAML\Module\saml\Message::checkSign($sp, $request)) {
            return 'the ArtifactResolve is not signed';
        }
        return null;
    } catch (\Throwable $e) {
        return 'the ArtifactResolve is refused: ' . $e->getMessage();
    }
}

function harness_resign_artifact_response(array $harness, string $buffer): string
{
    try {
        $document = \SAML2\DOMDocumentFactory::fromString($buffer);
        $xpath = new DOMXPath($document);
        $xpath->registerNamespace('samlp', 'urn:oasis:names:tc:SAML:2.0:protocol');
        $xpath->registerNamespace('saml', 'urn:oasis:names:tc:SAML:2.0:assertion');
        $xpath->registerNamespace('ds', 'http://www.w3.org/2000/09/xmldsig#');
        $response = $xpath->query('//samlp:ArtifactResponse')->item(0);
        if ($response === null) {
            return $buffer;
        }
        foreach ($xpath->query('./ds:Signature', $response) as $old) {
            $response->removeChild($old);
        }
        $key = new \RobRichards\XMLSecLibs\XMLSecurityKey(
            \RobRichards\XMLSecLibs\XMLSecurityKey::RSA_SHA256, ['type' => 'private']
        );
        $key->loadKey($harness['cert_dir'] . '/signing.key', true);
        $signature = new \RobRichards\XMLSecLibs\XMLSecurityDSig();
        $signature->setCanonicalMethod(\RobRichards\XMLSecLibs\XMLSecurityDSig::EXC_C14N);
        $signature->addReference(
            $response,
            \RobRichards\XMLSecLibs\XMLSecurityDSig::SHA256,
            ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', \RobRichards\XMLSecLibs\XMLSecurityDSig::EXC_C14N],
            ['id_name' => 'ID', 'overwrite' => false]
        );
        $signature->sign($key);
        $signature->add509Cert(file_get_contents($harness['cert_dir'] . '/signing.crt'));
        $issuer = $xpath->query('./saml:Issuer', $response)->item(0);
        $signature->insertSignature($response, $issuer === null ? $response->firstChild : $issuer->nextSibling);
        return $document->saveXML();
    } catch (\Throwable $e) {
        harness_log($harness, 'could not sign the ArtifactResponse: ' . $e->getMessage());
        return $buffer;
    }
}
"""


@dataclass(frozen=True)
class IdpOptions:
    """What a kind of IdP does; ``start_idp`` and ``IdpHandle.configure`` may change it."""

    bindings: tuple[str, ...]
    name_format: str
    encrypt_assertion: bool
    require_signed_requests: bool = True
    require_signed_artifact_resolve: bool = True
    sign_assertion: bool = True
    sign_response: bool = True


KIND_OPTIONS = {
    "eherkenning": IdpOptions((BINDING_ARTIFACT,), NAME_FORMAT_URI, encrypt_assertion=True),
    "entree": IdpOptions((BINDING_POST,), NAME_FORMAT_BASIC, encrypt_assertion=False),
}


# ---------------------------------------------------------------------------------------
# the browser's view of a login


@dataclass(frozen=True)
class LoginResult:
    """What the IdP sends back to the SP through the browser (not yet delivered).

    ``binding`` is ``BINDING_POST`` (``url`` is the form's action, ``saml_response`` the
    base64 ``SAMLResponse``) or ``BINDING_ARTIFACT`` (``url`` is the redirect's ``Location``,
    ``saml_art`` its ``SAMLart``). ``html`` is the raw body of that last front-channel answer
    (the auto-submitting form, or the redirect's body).
    """

    binding: str
    url: str
    relay_state: str | None
    html: str
    saml_response: str | None = None
    saml_art: str | None = None

    @property
    def response_xml(self) -> str:
        """The POSTed ``Response`` decoded (POST binding only)."""
        if self.saml_response is None:
            raise HarnessError("an artifact login carries no SAMLResponse")
        return base64.b64decode(self.saml_response).decode("utf-8")

    def form_fields(self) -> dict[str, str]:
        """What the browser would POST to ``url`` (POST binding)."""
        fields = {"SAMLResponse": self.saml_response or ""}
        if self.relay_state is not None:
            fields["RelayState"] = self.relay_state
        return fields


@dataclass
class _Form:
    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    has_password: bool = False


class _FormParser(HTMLParser):
    """The forms of a page with their inputs (the browser's part of a login)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag in ("input", "button") and self.forms:
            form = self.forms[-1]
            if values.get("type", "").lower() == "password":
                form.has_password = True
            name = values.get("name")
            if name and values.get("type", "").lower() not in ("submit", "button", "image"):
                form.fields.setdefault(name, values.get("value", ""))


def _forms(page: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser.forms


# ---------------------------------------------------------------------------------------
# the IdP process


class IdpHandle:
    """A running SimpleSAMLphp IdP (see the module docstring)."""

    def __init__(
        self,
        kind: str,
        directory: Path,
        port: int,
        signing: KeyPair,
        users: Mapping[str, IdpUser],
        options: IdpOptions,
        entity_id: str | None,
    ) -> None:
        self.kind = kind
        self.directory = directory
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.metadata_url = f"{self.base_url}/saml2/idp/metadata.php"
        self.sso_url = f"{self.base_url}/saml2/idp/SSOService.php"
        self.slo_url = f"{self.base_url}/saml2/idp/SingleLogoutService.php"
        self.artifact_resolution_url = f"{self.base_url}/saml2/idp/ArtifactResolutionService.php"
        self.entity_id = entity_id or self.metadata_url
        self.signing = signing
        self.users = dict(users)
        self.options = options
        self.metadata_xml = ""
        self._secret_salt = secrets.token_hex(16)
        self._admin_password = secrets.token_hex(16)
        self._process: subprocess.Popen | None = None
        self._output = None

    # configuration -------------------------------------------------------------------

    @property
    def config_dir(self) -> Path:
        return self.directory / "config"

    @property
    def metadata_dir(self) -> Path:
        return self.directory / "metadata"

    @property
    def log_dir(self) -> Path:
        return self.directory / "log"

    def _write_layout(self, sp_metadata_xml: str) -> None:
        for sub in ("config", "metadata", "cert", "data", "log", "tmp"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self.signing.write(self.directory / "cert", "signing")
        (self.config_dir / "config.php").write_text(CONFIG_PHP)
        (self.config_dir / "authsources.php").write_text(AUTHSOURCES_PHP)
        (self.metadata_dir / "saml20-idp-hosted.php").write_text(IDP_HOSTED_PHP)
        (self.metadata_dir / "saml20-sp-remote.php").write_text(SP_REMOTE_PHP)
        (self.directory / "router.php").write_text(ROUTER_PHP)
        self.set_sp_metadata(sp_metadata_xml)
        self._write_settings()

    def _write_settings(self) -> None:
        options = self.options
        settings = {
            "base_url": self.base_url,
            "entity_id": self.entity_id,
            "cert_dir": str(self.directory / "cert"),
            "log_dir": str(self.log_dir),
            "data_dir": str(self.directory / "data"),
            "temp_dir": str(self.directory / "tmp"),
            "metadata_dir": str(self.metadata_dir),
            "sp_metadata_file": str(self.metadata_dir / "sp.xml"),
            "secret_salt": self._secret_salt,
            "admin_password": self._admin_password,
            "cookie_prefix": f"Harness{self.kind.capitalize()}{self.port}",
            "require_signed_artifact_resolve": options.require_signed_artifact_resolve,
            "acs_bindings": list(options.bindings),
            "users": {
                name: {
                    "password": user.password,
                    "attributes": {k: list(v) for k, v in user.attributes.items()},
                    "authn_context": user.authn_context,
                    "name_id": user.name_id or name,
                }
                for name, user in self.users.items()
            },
            "idp": {
                "host": "__DEFAULT__",
                "privatekey": "signing.key",
                "certificate": "signing.crt",
                "auth": "harness",
                "signature.algorithm": RSA_SHA256,
                "attributes.NameFormat": options.name_format,
                "NameIDFormat": NAMEID_PERSISTENT,
                "saml20.sendartifact": BINDING_ARTIFACT in options.bindings,
                "assertion.encryption": options.encrypt_assertion,
                "validate.authnrequest": options.require_signed_requests,
                "saml20.sign.assertion": options.sign_assertion,
                "saml20.sign.response": options.sign_response,
            },
            # the SP's own metadata must not soften what this IdP requires
            "sp_overrides": {
                "validate.authnrequest": options.require_signed_requests,
                "assertion.encryption": options.encrypt_assertion,
                "saml20.sign.assertion": options.sign_assertion,
                "saml20.sign.response": options.sign_response,
                "NameIDFormat": [NAMEID_PERSISTENT],
            },
        }
        _replace(self.config_dir / "harness.json", json.dumps(settings, indent=2).encode())

    def set_sp_metadata(self, sp_metadata_xml: str) -> None:
        """Trust this SP metadata from the next request on (one or more EntityDescriptors)."""
        fromstring(sp_metadata_xml.encode("utf-8"), forbid_dtd=True)
        _replace(self.metadata_dir / "sp.xml", sp_metadata_xml.encode("utf-8"))

    def configure(self, **changes: object) -> None:
        """Change the running IdP's ``IdpOptions`` (e.g. ``encrypt_assertion=False``) or
        ``users=``; SimpleSAMLphp reads its files on every request, so no restart is needed.
        The published metadata may change with it (``metadata_xml`` is fetched again)."""
        users = changes.pop("users", None)
        if users is not None:
            self.users = dict(users)  # type: ignore[call-overload]
        self.options = IdpOptions(**{**self.options.__dict__, **changes})
        self._write_settings()
        self.metadata_xml = self._fetch_metadata()

    # process -------------------------------------------------------------------------

    def _start(self) -> None:
        environment = {
            **os.environ,
            "SIMPLESAMLPHP_CONFIG_DIR": str(self.config_dir),
            "PHP_CLI_SERVER_WORKERS": str(WORKERS),
        }
        self._output = open(self.log_dir / "php-server.log", "ab")  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                "php",
                "-d",
                "display_errors=stderr",
                "-d",
                "opcache.enable_cli=0",
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(SSP_WWW),
                str(self.directory / "router.php"),
            ],
            cwd=SSP_WWW,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        last_problem = "no answer"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise HarnessError(f"the {self.kind} IdP exited: {self.logs()}")
            try:
                self.metadata_xml = self._fetch_metadata()
                return
            except (requests.RequestException, HarnessError) as problem:
                last_problem = str(problem)
                time.sleep(0.1)
        self.stop()
        raise HarnessError(f"the {self.kind} IdP did not answer: {last_problem}\n{self.logs()}")

    def _fetch_metadata(self) -> str:
        answer = requests.get(self.metadata_url, timeout=HTTP_TIMEOUT)
        if answer.status_code != 200 or "EntityDescriptor" not in answer.text:
            raise HarnessError(f"metadata answered {answer.status_code}: {answer.text[:500]}")
        return answer.text

    def stop(self) -> None:
        """Stop the PHP server and its workers (its own process group)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._output is not None:
            self._output.close()
            self._output = None

    def logs(self) -> str:
        """The PHP server's output, SimpleSAMLphp's log and the router's, for a failure report."""
        parts = []
        for name in ("php-server.log", "simplesamlphp.log", "router.log"):
            path = self.log_dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def idp_initiated_url(self, sp_entity_id: str, relay_state: str | None = None) -> str:
        """Where a browser starts an IdP-initiated (unsolicited) login at this IdP, for the
        test that the SP refuses it; ``login`` follows it like any other URL."""
        query = {"spentityid": sp_entity_id}
        if relay_state is not None:
            query["RelayState"] = relay_state
        return f"{self.sso_url}?{urlencode(query)}"

    # the browser -----------------------------------------------------------------------

    def login(
        self,
        session: requests.Session,
        authn_request_url: str,
        username: str,
        password: str,
    ) -> LoginResult:
        """Sign in as a browser would, up to (not including) the IdP's answer to the SP.

        ``authn_request_url`` is the SP's login URL (its redirect is followed) or the IdP's
        SSO URL with a ``SAMLRequest``. When ``session`` already has a session at this IdP, no
        form is shown and the answer comes at once. A refused password, or an IdP error page,
        raises ``IdpLoginError`` with the page.
        """
        answer = session.get(authn_request_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        submitted = False
        for _ in range(20):
            if answer.is_redirect:
                location = urljoin(answer.url, answer.headers["Location"])
                query = parse_qs(urlparse(location).query)
                if "SAMLart" in query and not location.startswith(self.base_url + "/"):
                    return LoginResult(
                        binding=BINDING_ARTIFACT,
                        url=location,
                        relay_state=query.get("RelayState", [None])[0],
                        html=answer.text,
                        saml_art=query["SAMLart"][0],
                    )
                answer = session.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
                continue
            page = answer.text
            forms = _forms(page)
            for form in forms:
                if "SAMLResponse" in form.fields:
                    return LoginResult(
                        binding=BINDING_POST,
                        url=urljoin(answer.url, form.action),
                        relay_state=form.fields.get("RelayState"),
                        html=page,
                        saml_response=form.fields["SAMLResponse"],
                    )
            login_forms = [form for form in forms if form.has_password]
            if not login_forms or submitted or answer.status_code != 200:
                problem = "the password was refused" if submitted and login_forms else "no login"
                raise IdpLoginError(
                    f"{problem}: HTTP {answer.status_code}, {_text_of(page)[:300]}",
                    page,
                    answer.url,
                )
            form = login_forms[0]
            data = {**form.fields, "username": username, "password": password}
            target = urljoin(answer.url, form.action)
            submitted = True
            if form.method == "post":
                answer = session.post(
                    target, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
                )
            else:
                answer = session.get(
                    target, params=data, allow_redirects=False, timeout=HTTP_TIMEOUT
                )
        raise HarnessError("too many redirects during the login")


def _text_of(page: str) -> str:
    """A page's text without markup, for an error message."""
    parser = HTMLParser()
    chunks: list[str] = []
    parser.handle_data = chunks.append  # type: ignore[method-assign]
    parser.feed(page)
    return " ".join(" ".join(chunks).split())


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` so that a concurrent reader (a PHP worker) sees the old or new file."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_installed() -> None:
    """Fail loudly (not skip) when the system packages are missing: ``make test`` installs them."""
    missing = []
    if shutil.which("php") is None:
        missing.append("php-cli")
    if not (SSP_WWW / "saml2" / "idp" / "SSOService.php").exists():
        missing.append("simplesamlphp")
    if shutil.which("xmlsec1") is None:
        missing.append("xmlsec1")
    if missing:
        raise HarnessError(
            "missing system packages for the federation tests: "
            + " ".join(missing)
            + " (run `make system-deps-test` as root; `make test` does)"
        )


def start_idp(
    kind: str,
    sp_metadata_xml: str,
    tmp_dir: Path | str,
    *,
    users: Mapping[str, IdpUser] | None = None,
    entity_id: str | None = None,
    signing: KeyPair | None = None,
    encrypt_assertion: bool | None = None,
    require_signed_requests: bool = True,
    require_signed_artifact_resolve: bool = True,
) -> IdpHandle:
    """Start an IdP of ``kind`` ("eherkenning" or "entree") that trusts ``sp_metadata_xml``.

    Its files go to ``tmp_dir/<kind>-<port>``. ``users`` replaces ``DEFAULT_USERS[kind]``;
    ``signing`` the session's key pair for the kind; ``entity_id`` the default (the metadata
    URL); ``encrypt_assertion`` the kind's default (eherkenning encrypts, entree does not).
    Returns once the IdP serves its metadata. Call ``stop()`` when done (also done at exit).
    """
    if kind not in KIND_OPTIONS:
        raise ValueError(f"unknown IdP kind {kind!r}: one of {', '.join(KINDS)}")
    check_installed()
    options = KIND_OPTIONS[kind]
    changes: dict[str, object] = {
        "require_signed_requests": require_signed_requests,
        "require_signed_artifact_resolve": require_signed_artifact_resolve,
    }
    if encrypt_assertion is not None:
        changes["encrypt_assertion"] = encrypt_assertion
    options = IdpOptions(**{**options.__dict__, **changes})
    port = _free_port()
    handle = IdpHandle(
        kind,
        Path(tmp_dir) / f"{kind}-{port}",
        port,
        signing or session_keys(f"{kind} idp signing"),
        DEFAULT_USERS[kind] if users is None else users,
        options,
        entity_id,
    )
    handle._write_layout(sp_metadata_xml)
    atexit.register(handle.stop)
    handle._start()
    return handle


# ---------------------------------------------------------------------------------------
# signing with xmlsec1: artifact resolution and metadata aggregates


def _signature_template(reference_id: str) -> str:
    return (
        f'<ds:Signature xmlns:ds="{DS_NS}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="{RSA_SHA256}"/>'
        f'<ds:Reference URI="#{reference_id}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
        "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
    )


def xmlsec_sign(template: str, key_pem: bytes, cert_pem: bytes, id_node: str) -> bytes:
    """Sign the (first) empty ``ds:Signature`` of ``template`` with xmlsec1.

    ``id_node`` is the signed element as ``namespace:LocalName`` (its ``ID`` attribute is what
    the ``Reference`` points to).
    """
    with tempfile.TemporaryDirectory(prefix="xmlsec-") as work:
        key_file, cert_file = KeyPair(key_pem, cert_pem).write(Path(work), "signer")
        source = Path(work) / "template.xml"
        source.write_text(template, encoding="utf-8")
        target = Path(work) / "signed.xml"
        done = subprocess.run(
            [
                "xmlsec1",
                "--sign",
                "--privkey-pem",
                f"{key_file},{cert_file}",
                "--id-attr:ID",
                id_node,
                "--output",
                str(target),
                str(source),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"xmlsec1 could not sign: {done.stderr.decode(errors='replace')}")
        return target.read_bytes()


def xmlsec_verify(document: bytes, cert_pem: bytes, id_node: str) -> bool:
    """Whether the first ``ds:Signature`` of ``document`` verifies with ``cert_pem``'s key."""
    with tempfile.TemporaryDirectory(prefix="xmlsec-") as work:
        cert_file = Path(work) / "signer.crt"
        cert_file.write_bytes(cert_pem)
        source = Path(work) / "signed.xml"
        source.write_bytes(document)
        done = subprocess.run(
            [
                "xmlsec1",
                "--verify",
                "--pubkey-cert-pem",
                str(cert_file),
                "--enabled-key-data",
                "key-name",
                "--id-attr:ID",
                id_node,
                str(source),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.returncode == 0


def _strip_declaration(document: str) -> str:
    text = document.strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :].lstrip()
    return text


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_aggregate(
    entity_descriptors: list[str],
    signing_key: bytes,
    cert: bytes,
    valid_until: datetime,
    cache_duration: timedelta,
) -> bytes:
    """A federation's metadata aggregate: an ``md:EntitiesDescriptor`` holding the given
    ``EntityDescriptor`` documents (e.g. ``handle.metadata_xml``), with ``validUntil`` and
    ``cacheDuration`` (``PT<seconds>S``), enveloped-signed (RSA-SHA256, exclusive c14n) by
    ``signing_key`` with ``cert`` in its ``KeyInfo``, as SURFconext and Entree publish theirs.
    """
    aggregate_id = f"_{uuid.uuid4().hex}"
    children = "".join(_strip_declaration(document) for document in entity_descriptors)
    template = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<md:EntitiesDescriptor xmlns:md="{MD_NS}" ID="{aggregate_id}" '
        f'Name="urn:federation:harness" validUntil="{_instant(valid_until)}" '
        f'cacheDuration="PT{int(cache_duration.total_seconds())}S">'
        f"{_signature_template(aggregate_id)}{children}</md:EntitiesDescriptor>"
    )
    fromstring(template.encode("utf-8"), forbid_dtd=True)
    return xmlsec_sign(template, signing_key, cert, f"{MD_NS}:EntitiesDescriptor")


def verify_aggregate(document: bytes, cert: bytes) -> bool:
    """Whether an aggregate's signature verifies with ``cert`` (xmlsec1)."""
    return xmlsec_verify(document, cert, f"{MD_NS}:EntitiesDescriptor")


def flip_one_byte(document: bytes) -> bytes:
    """The document with one byte of signed content changed, still well-formed XML.

    The byte is a letter in the middle of the first ``entityID`` value (XOR 0x01 keeps it a
    letter or a backtick), so a parser still reads the document and only the signature check
    can refuse it.
    """
    marker = b'entityID="'
    start = document.index(marker, document.index(b"</ds:Signature>")) + len(marker)
    end = document.index(b'"', start)
    for position in range(start + (end - start) // 2, end):
        if chr(document[position]).isalpha():
            changed = bytearray(document)
            changed[position] ^= 0x01
            return bytes(changed)
    raise HarnessError("no letter to flip in the first entityID")


# ---------------------------------------------------------------------------------------
# the artifact back channel, as an SP uses it


@dataclass(frozen=True)
class ArtifactResolution:
    """The IdP's answer to an ``ArtifactResolve``: the SOAP body as sent, and its parts.

    ``artifact_response`` is the signed ``samlp:ArtifactResponse`` (None on a SOAP fault);
    ``response`` the ``samlp:Response`` inside it (None when the artifact was unknown or used).
    """

    status_code: int
    soap: str
    artifact_response: str | None
    response: str | None


def artifact_resolve_envelope(
    artifact: str,
    sp_entity_id: str,
    destination: str,
    signing: KeyPair | None,
) -> bytes:
    """A SOAP envelope with an ``ArtifactResolve`` from the SP, signed by ``signing`` (None:
    unsigned, for the refusal test)."""
    request_id = f"_{uuid.uuid4().hex}"
    signature = _signature_template(request_id) if signing is not None else ""
    resolve = (
        f'<samlp:ArtifactResolve xmlns:samlp="{SAMLP_NS}" xmlns:saml="{SAML_NS}" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{_instant(datetime.now(UTC))}" '
        f'Destination="{html.escape(destination)}">'
        f"<saml:Issuer>{html.escape(sp_entity_id)}</saml:Issuer>{signature}"
        f"<samlp:Artifact>{html.escape(artifact)}</samlp:Artifact></samlp:ArtifactResolve>"
    )
    if signing is not None:
        signed = xmlsec_sign(
            resolve, signing.key_pem, signing.cert_pem, f"{SAMLP_NS}:ArtifactResolve"
        )
        resolve = _strip_declaration(signed.decode("utf-8"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}"><SOAP-ENV:Body>{resolve}'
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def resolve_artifact(
    artifact_resolution_url: str,
    artifact: str,
    sp_entity_id: str,
    signing: KeyPair | None,
) -> ArtifactResolution:
    """Send an ``ArtifactResolve`` as the SP would and split the answer into its parts."""
    answer = requests.post(
        artifact_resolution_url,
        data=artifact_resolve_envelope(artifact, sp_entity_id, artifact_resolution_url, signing),
        headers={
            "Content-Type": "text/xml",
            "SOAPAction": "http://www.oasis-open.org/committees/security",
        },
        timeout=HTTP_TIMEOUT,
    )
    artifact_response = response = None
    if answer.status_code == 200:
        document = minidom.parseString(answer.content)
        found = document.getElementsByTagNameNS(SAMLP_NS, "ArtifactResponse")
        if found:
            artifact_response = _standalone(found[0])
            inner = found[0].getElementsByTagNameNS(SAMLP_NS, "Response")
            response = _standalone(inner[0]) if inner else None
    return ArtifactResolution(answer.status_code, answer.text, artifact_response, response)


def _standalone(element: minidom.Element) -> str:
    """The element as a document of its own: SimpleSAMLphp's inner ``Response`` uses prefixes
    declared on the ``ArtifactResponse`` and the envelope, so those declarations are copied
    onto it (exclusive c14n ignores unused ones, so its signatures are unaffected)."""
    ancestor = element.parentNode
    while ancestor is not None and ancestor.nodeType == ancestor.ELEMENT_NODE:
        for name, value in ancestor.attributes.items():
            if (name == "xmlns" or name.startswith("xmlns:")) and not element.hasAttribute(name):
                element.setAttribute(name, value)
        ancestor = ancestor.parentNode
    return element.toxml()


# ---------------------------------------------------------------------------------------
# a static HTTP server for metadata


class MetadataServer:
    """A tiny HTTP server on 127.0.0.1 that serves documents the test publishes.

    ``publish(path, body)`` (a new body replaces the old at once), ``url(path)``, ``hits(path)``
    (how often it was fetched, to see a refresh), ``unpublish(path)`` (then 404), ``stop()``.
    """

    def __init__(self) -> None:
        self._documents: dict[str, tuple[bytes, str]] = {}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                path = urlparse(self.path).path
                with server._lock:
                    server._hits[path] = server._hits.get(path, 0) + 1
                    found = server._documents.get(path)
                if found is None:
                    self.send_error(404)
                    return
                body, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def publish(
        self, path: str, body: bytes, content_type: str = "application/samlmetadata+xml"
    ) -> str:
        with self._lock:
            self._documents[path] = (body, content_type)
        return self.url(path)

    def unpublish(self, path: str) -> None:
        with self._lock:
            self._documents.pop(path, None)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits.get(path, 0)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class IdpPool:
    """IdPs started once and shared (a session fixture holds one): ``get`` starts an IdP the
    first time a (kind, name) is asked for and afterwards only hands it the SP metadata."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = Path(tmp_dir)
        self._handles: dict[tuple[str, str], IdpHandle] = {}

    def get(self, kind: str, sp_metadata_xml: str, name: str = "default", **options) -> IdpHandle:
        """The running IdP ``(kind, name)``, started with ``options`` (see ``start_idp``) the
        first time; later calls only replace its SP metadata (``options`` are then ignored:
        use ``handle.configure``)."""
        handle = self._handles.get((kind, name))
        if handle is None:
            handle = start_idp(kind, sp_metadata_xml, self.tmp_dir, **options)
            self._handles[(kind, name)] = handle
        else:
            handle.set_sp_metadata(sp_metadata_xml)
        return handle

    def stop_all(self) -> None:
        for handle in self._handles.values():
            handle.stop()
        self._handles.clear()
