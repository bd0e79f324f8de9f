"""IdP metadata from a file or a URL: signature-verified, ``validUntil`` honoured, refreshed.

Federations publish their members' metadata as one signed aggregate (an
``md:EntitiesDescriptor``, e.g. Entree's and SURFconext's) and sign it with a key whose
certificate each SP configures; a broker publishes its own, also signed. So an IdP is
registered with its ``entityID`` and either a metadata file or a URL, and, for a URL (and
optionally a file), the certificate of the document's signer:

- the document is parsed with defusedxml (no DTD, no entity), at most 20 MiB;
- with a signer certificate, the root element must carry exactly one enveloped signature that
  references the root's own ``ID`` with allowed algorithms (the response checks of
  :mod:`gateway.saml.hardening`), and xmlsec1 must verify it with that certificate only (the
  document's own ``KeyInfo`` is ignored): one flipped byte and the document is refused;
- a ``validUntil`` (of the root or of the IdP's ``EntityDescriptor``) in the past refuses the
  document; the earlier one is kept as the copy's expiry, after which the IdP stops;
- ``cacheDuration`` (or 6 hours) says when to fetch again; a failed refresh keeps the last
  good copy and records why (shown on the admin page).

Only the IdP's own ``EntityDescriptor`` is kept (with the namespace declarations it inherits),
so pysaml2 never sees, and can never trust, the other entities of an aggregate.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from defusedxml.minidom import parseString as parse_dom
from sqlalchemy import select

from ..clock import aware
from .errors import SamlError
from .hardening import check_signature

log = logging.getLogger(__name__)

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
MD = f"{{{MD_NS}}}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT = 15
DEFAULT_CACHE = timedelta(hours=6)
RETRY_AFTER_FAILURE = timedelta(minutes=5)
XMLSEC = "/usr/bin/xmlsec1"
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class MetadataError(SamlError):
    """Metadata that may not be used; ``message`` says why (in English, for the operator)."""

    status = 503
    code = "saml_metadata"

    def __str__(self) -> str:
        return self.message or self.code


@dataclass(frozen=True)
class IdpMetadata:
    """The IdP's own ``EntityDescriptor`` (a standalone document) and when it expires."""

    entity_xml: str
    valid_until: datetime | None
    cache_duration: timedelta | None


def parse_instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MetadataError(message=f"validUntil {value!r} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(value: str | None) -> timedelta | None:
    """An ``xs:duration`` as SAML metadata uses it (days, hours, minutes, seconds)."""
    if not value:
        return None
    match = _DURATION.match(value.strip())
    if not match or value.strip() in ("P", "PT"):
        raise MetadataError(message=f"cacheDuration {value!r} is not a duration")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def verify_signature(document: bytes, signer_pem: str, root_tag: str) -> bool:
    """Whether xmlsec1 verifies the root's signature with ``signer_pem`` alone."""
    with tempfile.TemporaryDirectory(prefix="saml-md-") as work:
        cert = Path(work) / "signer.crt"
        cert.write_text(signer_pem)
        source = Path(work) / "metadata.xml"
        source.write_bytes(document)
        done = subprocess.run(  # noqa: S603 - fixed binary, our own temporary files
            [
                XMLSEC,
                "--verify",
                "--pubkey-cert-pem",
                str(cert),
                "--enabled-key-data",
                "key-name",
                "--id-attr:ID",
                f"{MD_NS}:{root_tag}",
                str(source),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return done.returncode == 0


def _standalone(document: bytes, entity_id: str) -> str:
    """The ``EntityDescriptor`` of ``entity_id`` as a document of its own, with the namespace
    declarations of its ancestors copied onto it (exclusive c14n ignores unused ones)."""
    dom = parse_dom(document)
    for element in dom.getElementsByTagNameNS(MD_NS, "EntityDescriptor"):
        if element.getAttribute("entityID") != entity_id:
            continue
        ancestor = element.parentNode
        while ancestor is not None and ancestor.nodeType == ancestor.ELEMENT_NODE:
            for name, value in ancestor.attributes.items():
                if (name == "xmlns" or name.startswith("xmlns:")) and not element.hasAttribute(
                    name
                ):
                    element.setAttribute(name, value)
            ancestor = ancestor.parentNode
        return element.toxml()
    raise MetadataError(message=f"the metadata does not describe {entity_id}")


def read_metadata(
    document: bytes, entity_id: str | None, signer_pem: str | None, now: datetime
) -> tuple[str, IdpMetadata]:
    """Check ``document`` and take the IdP ``entity_id`` out of it: (entity ID, metadata).

    ``entity_id`` None is allowed for a document that describes exactly one IdP.
    """
    if len(document) > MAX_DOCUMENT_BYTES:
        raise MetadataError(message="the metadata is larger than 20 MiB")
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SyntaxError, ValueError):
        raise MetadataError(
            message="the metadata is not well-formed XML (DTDs and entities are refused)"
        ) from None
    if root.tag not in (f"{MD}EntitiesDescriptor", f"{MD}EntityDescriptor"):
        raise MetadataError(message="the metadata is no EntitiesDescriptor or EntityDescriptor")
    if signer_pem:
        signatures = root.findall(f"{DS}Signature")
        if len(signatures) != 1:
            raise MetadataError(message="the metadata is not signed")
        try:
            check_signature(signatures[0], root)
        except SamlError:
            raise MetadataError(message="the metadata's signature has a refused shape") from None
        if not verify_signature(document, signer_pem, root.tag.split("}")[1]):
            raise MetadataError(message="the metadata's signature does not verify")
    idps = [
        entity
        for entity in ([root] if root.tag == f"{MD}EntityDescriptor" else root.iter())
        if entity.tag == f"{MD}EntityDescriptor"
        and entity.find(f"{MD}IDPSSODescriptor") is not None
    ]
    if entity_id is None:
        if len(idps) != 1:
            raise MetadataError(message="name the IdP's entity_id: the metadata has several")
        entity_id = idps[0].get("entityID") or ""
    entity = next((e for e in idps if e.get("entityID") == entity_id), None)
    if entity is None:
        raise MetadataError(message=f"the metadata describes no IdP {entity_id}")
    moments = [parse_instant(root.get("validUntil")), parse_instant(entity.get("validUntil"))]
    valid_until = min((m for m in moments if m is not None), default=None)
    if valid_until is not None and valid_until <= now:
        raise MetadataError(message="the metadata has expired (validUntil)")
    durations = [
        parse_duration(root.get("cacheDuration")),
        parse_duration(entity.get("cacheDuration")),
    ]
    cache = min((d for d in durations if d is not None), default=None)
    return entity_id, IdpMetadata(_standalone(document, entity_id), valid_until, cache)


def fetch(url: str) -> bytes:
    """GET ``url`` (at most 20 MiB, 15 s): the raw document."""
    try:
        with requests.get(url, timeout=FETCH_TIMEOUT, stream=True) as answer:
            if answer.status_code != 200:
                raise MetadataError(
                    message=f"fetching the metadata answered HTTP {answer.status_code}"
                )
            body = b""
            for chunk in answer.iter_content(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise MetadataError(message="the metadata is larger than 20 MiB")
            return body
    except requests.RequestException as exc:
        raise MetadataError(
            message=f"fetching the metadata failed ({type(exc).__name__})"
        ) from None


def next_refresh(now: datetime, metadata: IdpMetadata) -> datetime:
    """``cacheDuration`` (default 6 hours) from now, never after ``validUntil``."""
    moment = now + (metadata.cache_duration or DEFAULT_CACHE)
    if metadata.valid_until is not None:
        moment = min(moment, metadata.valid_until)
    return moment


def checked_copy(url: str, entity_id: str, signer: str | None, now: datetime):
    """Fetch and check a URL's metadata: an :class:`IdpMetadata`, or the ``MetadataError``
    that refused it (returned, not raised, so that callers record it)."""
    try:
        return read_metadata(fetch(url), entity_id, signer, now)[1]
    except MetadataError as exc:
        return exc


def apply_copy(row, copy, now: datetime, retry: timedelta = RETRY_AFTER_FAILURE) -> bool:
    """Store a checked copy on the IdP's row, or record why it was refused and keep the last
    good copy (``metadata_xml``, ``valid_until``), trying again after ``retry``."""
    if isinstance(copy, MetadataError):
        row.metadata_error = str(copy)[:500]
        row.refresh_at = now + retry
        log.warning("saml metadata refresh refused", extra={"idp": row.key, "problem": str(copy)})
        return False
    row.metadata_xml = copy.entity_xml
    row.valid_until = copy.valid_until
    row.fetched_at = now
    row.refresh_at = next_refresh(now, copy)
    row.metadata_error = None
    return True


def refresh_row(row, now: datetime, retry: timedelta = RETRY_AFTER_FAILURE) -> bool:
    """Fetch, check and store the metadata of a URL-registered IdP row; True when replaced."""
    copy = checked_copy(row.metadata_url, row.entity_id, row.metadata_signer, now)
    return apply_copy(row, copy, now, retry)


class MetadataRefresher:
    """Refreshes URL metadata when due, in a background thread of each process.

    The thread starts on first use (after gunicorn forked), wakes when the earliest refresh
    is due (and at least every 10 seconds), and writes to the database, so every process
    and replica uses the newest good copy. ``refresh_due`` is also called directly by tests
    and by the admin page's "refresh now".
    """

    POLL = 10.0

    def __init__(self, db, clock) -> None:
        self.db = db
        self.clock = clock
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def refresh_due(self, key: str | None = None, *, force: bool = False) -> int:
        """Refresh the due (or, with ``force``, the named) URL IdPs; how many were replaced.

        The fetches happen outside any transaction (a slow federation server must not hold
        the database's write lock); each result is then stored in a short one.
        """
        from .models import SamlIdpRow

        now = self.clock()
        with self.db.session() as session:
            query = select(SamlIdpRow).where(SamlIdpRow.metadata_url.is_not(None))
            if key is not None:
                query = query.where(SamlIdpRow.key == key)
            due = [
                (row.key, row.metadata_url, row.entity_id, row.metadata_signer)
                for row in session.scalars(query)
                if force or row.refresh_at is None or aware(row.refresh_at) <= now
            ]
        replaced = 0
        for row_key, url, entity_id, signer in due:
            copy = checked_copy(url, entity_id, signer, now)
            with self.db.write_session() as session:
                row = session.get(SamlIdpRow, row_key)
                if row is not None and row.metadata_url == url:
                    replaced += apply_copy(row, copy, now)
        return replaced

    def next_due(self) -> float:
        from .models import SamlIdpRow

        with self.db.session() as session:
            moments = session.scalars(
                select(SamlIdpRow.refresh_at).where(SamlIdpRow.metadata_url.is_not(None))
            ).all()
        if not moments:
            return self.POLL
        earliest = min((aware(m) for m in moments if m is not None), default=self.clock())
        return max(0.2, min(self.POLL, (earliest - self.clock()).total_seconds()))

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="saml-metadata-refresh", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.refresh_due()
                wait = self.next_due()
            except Exception:  # noqa: BLE001 - the thread keeps going; the log says why
                log.exception("saml metadata refresh failed")
                wait = self.POLL
            self._wake.wait(wait)
            self._wake.clear()
            time.sleep(0)


def expired(valid_until: datetime | None, now: datetime) -> bool:
    return valid_until is not None and aware(valid_until) <= now
