"""What the IdP admin pages do, as a plain service over the registry of :mod:`.idps`.

The pages (:mod:`gateway.web.views.idps`) stay thin and never touch the tables: they list the
registrations, register one (checked by the same rules as the bootstrap file), suspend or
activate one (suspending ends its sessions) and fetch its metadata now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from .idps import idp_problems, save_idp, set_status
from .models import SamlIdpRow


@dataclass(frozen=True)
class Registration:
    """One registered IdP as the admin page shows it."""

    key: str
    name: str
    status: str
    profile: str
    entity_id: str
    binding: str
    encrypt_assertions: bool
    organisations: list[str] | None
    metadata_url: str | None
    has_metadata: bool
    fetched_at: datetime | None
    valid_until: datetime | None
    metadata_error: str | None


class IdpAdmin:
    def __init__(self, db, refresher, clock) -> None:
        self.db = db
        self.refresher = refresher
        self.clock = clock

    def registrations(self) -> list[Registration]:
        with self.db.session() as session:
            rows = session.scalars(select(SamlIdpRow).order_by(SamlIdpRow.name)).all()
            return [
                Registration(
                    key=row.key,
                    name=row.name,
                    status=row.status,
                    profile=row.profile,
                    entity_id=row.entity_id,
                    binding=row.binding,
                    encrypt_assertions=row.encrypt_assertions,
                    organisations=row.organisations,
                    metadata_url=row.metadata_url,
                    has_metadata=bool(row.metadata_xml),
                    fetched_at=row.fetched_at,
                    valid_until=row.valid_until,
                    metadata_error=row.metadata_error,
                )
                for row in rows
            ]

    def register(
        self,
        item: dict,
        *,
        production: bool,
        signer_pem: str | None,
        metadata_document: bytes | None,
    ) -> tuple[str | None, list[tuple[tuple, str]]]:
        """('created' | 'updated' | 'unchanged', []) or (None, the problems)."""
        problems, plan = idp_problems(
            item,
            Path("."),
            self.clock(),
            production=production,
            signer_pem=signer_pem,
            metadata_document=metadata_document,
        )
        if plan is None:
            return None, problems
        with self.db.write_session() as session:
            return save_idp(session, plan), []

    def set_status(self, key: str, status: str) -> bool:
        """Suspend (ending the IdP's sessions) or activate; False for an unknown key."""
        with self.db.write_session() as session:
            return set_status(session, key, status)

    def refresh(self, key: str) -> bool:
        """Fetch and check the IdP's metadata now; False when it was refused."""
        return self.refresher.refresh_due(key, force=True) > 0
