"""Reading a bootstrap file and checking it as a whole before anything is written.

The organisations and their clients are checked here with the registry's rules; the ``routes``
and ``saml`` blocks are handed to :mod:`.routes` and :mod:`.saml`, the ``regions`` block and
each organisation's ``serves`` to :mod:`.regions`. Every problem is collected
(``file:line: path: message``) so that one run lists them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..registry import rules
from ..registry.service import ClientCredentials
from ..registry.yamlfile import LocatedDocument, YamlFileError, load_located
from .errors import BootstrapError
from .plan import BootstrapFile, ClientPlan, OrganisationPlan
from .regions import check_links, check_regions, check_serves
from .routes import check_routes
from .saml import check_saml

TOP_LEVEL_KEYS = {"organisations", "saml", "routes", "regions"}
ORGANISATION_KEYS = {
    "oin",
    "name",
    "type",
    "status",
    "delivery_url",
    "polymorphic",
    "clients",
    "serves",
    "brin",
    "kvk",
}
_UNREADABLE = object()
"""What :meth:`_Checker.jwks_file` returns when it has reported a problem."""

CLIENT_KEYS = {
    "client_id",
    "auth",
    "jwks",
    "jwks_file",
    "tls_client_cert_sha256",
    "client_secret",
    "scopes",
}


def read_bootstrap(path: Path, *, production: bool) -> BootstrapFile:
    """Read and validate ``path``; raise :class:`BootstrapError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BootstrapError([f"{path}: cannot read the file ({type(exc).__name__})"]) from None
    try:
        document = load_located(text)
    except YamlFileError as exc:
        where = f"{path.name}:{exc.line}" if exc.line else path.name
        raise BootstrapError([f"{where}: {exc}"]) from None
    return _Checker(path, document, production).check()


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


class _Checker:
    """One pass over the document; ``problems`` collects what is wrong, with its line."""

    def __init__(self, path: Path, document: LocatedDocument, production: bool) -> None:
        self.path = path
        self.document = document
        self.production = production
        self.problems: list[str] = []

    def problem(self, path: tuple, message: str) -> None:
        self.located(self.where(path), message)

    def where(self, path: tuple) -> str:
        """``file:line: path`` of ``path``, the prefix of every problem found there."""
        line = self.document.line_of(path)
        where = f"{self.path.name}:{line}" if line else self.path.name
        return f"{where}: {_path_text(path)}"

    def located(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def rule(self, path: tuple, problem: str | None) -> None:
        """Record what a registry rule found at ``path``, if it found anything."""
        if problem:
            self.problem(path, problem)

    def mapping(self, item: object, allowed: set[str], path: tuple) -> bool:
        """Whether ``item`` is a mapping (its unknown keys reported) worth checking further."""
        if not isinstance(item, dict):
            self.problem(path, "must be a mapping")
            return False
        for key in item:
            if key not in allowed:
                self.problem((*path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return True

    def unique_list(
        self, value: object, path: tuple, check: Callable, key: str, seen: dict
    ) -> list:
        """The plans ``check(item, item_path)`` makes of the list at ``path``; a plan whose
        ``key`` attribute is already in ``seen`` (shared across lists) is a problem."""
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return []
        plans = []
        for index, item in enumerate(value):
            plan = check(item, (*path, index))
            if plan is None:
                continue
            if getattr(plan, key) in seen:
                self.problem((*path, index, key), "is listed twice")
            seen[getattr(plan, key)] = path
            plans.append(plan)
        return plans

    def check(self) -> BootstrapFile:
        value = self.document.value
        if not isinstance(value, dict):
            self.problem((), "the file must be a mapping with an 'organisations' list")
            raise BootstrapError(self.problems)
        self.mapping(value, TOP_LEVEL_KEYS, ())
        seen_clients: dict[str, tuple] = {}
        plans = self.unique_list(
            value.get("organisations", []),
            ("organisations",),
            lambda item, path: self.organisation(item, path, seen_clients),
            "oin",
            {},
        )
        saml = value.get("saml")
        saml_setup = None
        if saml is not None and not isinstance(saml, dict):
            self.problem(("saml",), "must be a mapping")
        elif saml is not None:
            saml_setup = check_saml(saml, self.path.parent, self.problem)
        routes = check_routes(value.get("routes", []), self.problem)
        regions = check_regions(value.get("regions", []), self.problem, self.where)
        check_links(regions, plans, self.located)
        if self.problems:
            raise BootstrapError(self.problems)
        return BootstrapFile(self.path, plans, saml, routes, saml_setup, regions)

    def organisation(
        self, item: object, path: tuple, seen_clients: dict
    ) -> OrganisationPlan | None:
        if not self.mapping(item, ORGANISATION_KEYS, path):
            return None
        before = len(self.problems)
        oin = item.get("oin")
        self.rule((*path, "oin"), rules.oin_problem(oin))
        name = item.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            self.problem((*path, "name"), "must be 1-200 characters")
        type_ = item.get("type")
        if type_ not in rules.ORGANISATION_TYPES:
            self.problem((*path, "type"), f"must be one of {', '.join(rules.ORGANISATION_TYPES)}")
        status = item.get("status", "active")
        if status not in rules.STATUSES:
            self.problem((*path, "status"), "must be active or suspended")
        delivery_url = item.get("delivery_url")
        self.rule(
            (*path, "delivery_url"),
            rules.delivery_url_problem(delivery_url, production=self.production),
        )
        polymorphic = item.get("polymorphic", False)
        if polymorphic not in (True, False):
            self.problem((*path, "polymorphic"), "must be true or false")
        brin, kvk = item.get("brin"), item.get("kvk")
        self.rule((*path, "brin"), rules.brin_problem(brin))
        self.rule((*path, "kvk"), rules.kvk_problem(kvk))
        serves = None
        if "serves" in item:
            serves = check_serves(item["serves"], (*path, "serves"), self.problem, self.where)
        clients = self.unique_list(
            item.get("clients", []),
            (*path, "clients"),
            lambda client, client_path: self.client(client, client_path, str(type_)),
            "client_id",
            seen_clients,
        )
        if len(self.problems) > before:
            return None
        return OrganisationPlan(
            oin,
            name.strip(),
            type_,
            status,
            delivery_url,
            clients,
            polymorphic is True,
            serves,
            brin,
            kvk,
        )

    def client(self, item: object, path: tuple, organisation_type: str) -> ClientPlan | None:
        if not self.mapping(item, CLIENT_KEYS, path):
            return None
        before = len(self.problems)
        client_id = item.get("client_id")
        self.rule((*path, "client_id"), rules.client_id_problem(client_id))
        scopes = item.get("scopes")
        for index, message in rules.scope_problems(scopes, organisation_type):
            self.problem((*path, "scopes") if index is None else (*path, "scopes", index), message)
        credentials = self.credentials(item, path)
        if len(self.problems) > before or credentials is None:
            return None
        return ClientPlan(client_id, list(scopes), credentials)

    def credentials(self, item: dict, path: tuple) -> ClientCredentials | None:
        """The client's credentials for its ``auth`` method, or ``None`` after a problem."""
        method = item.get("auth")
        if method == "private_key_jwt":
            return self.jwks_credentials(item, path)
        if method == "tls_client_auth":
            thumbprint = item.get("tls_client_cert_sha256")
            problem = rules.thumbprint_problem(thumbprint)
            if problem:
                self.problem((*path, "tls_client_cert_sha256"), problem)
                return None
            return ClientCredentials(method, tls_cert_sha256=thumbprint.lower())
        if method == "client_secret_basic":
            secret = item.get("client_secret")
            if self.production:
                self.problem((*path, "auth"), "client_secret_basic is refused in production")
            elif not isinstance(secret, str) or len(secret) < 16:
                self.problem((*path, "client_secret"), "must be at least 16 characters")
            else:
                return ClientCredentials(method, client_secret=secret)
            return None
        self.problem((*path, "auth"), f"must be one of {', '.join(rules.AUTH_METHODS)}")
        return None

    def jwks_credentials(self, item: dict, path: tuple) -> ClientCredentials | None:
        if ("jwks" in item) == ("jwks_file" in item):
            self.problem(path, "private_key_jwt needs exactly one of 'jwks' or 'jwks_file'")
            return None
        jwks = item.get("jwks")
        key_path: tuple = (*path, "jwks")
        if "jwks_file" in item:
            key_path = (*path, "jwks_file")
            jwks = self.jwks_file(item["jwks_file"], key_path)
            if jwks is _UNREADABLE:
                return None
        problem = rules.jwks_problem(jwks)
        if problem:
            self.problem(key_path, problem)
            return None
        return ClientCredentials("private_key_jwt", jwks=jwks)

    def jwks_file(self, file_name: object, key_path: tuple) -> object:
        """The JSON of a ``jwks_file`` (relative to the bootstrap file), or ``_UNREADABLE``
        after a problem (the file may hold ``null``, which the JWKS rule then refuses)."""
        if not isinstance(file_name, str):
            self.problem(key_path, "must be a file path")
            return _UNREADABLE
        try:
            jwks_path = (self.path.parent / file_name).resolve()
            text = jwks_path.read_text()
        except (OSError, ValueError):  # ValueError: a NUL byte in the path
            self.problem(key_path, f"cannot read {file_name!r}")
            return _UNREADABLE
        try:
            return json.loads(text)
        except ValueError:
            self.problem(key_path, f"{jwks_path} is not JSON")
            return _UNREADABLE
