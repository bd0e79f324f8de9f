"""The demo people of the development IdP: one per role, and one the gateway does not know.

Their organisations are those of ``deploy/demo-bootstrap.yaml``; their attribute values are the
default role values of :mod:`gateway.saml.setup`, so the sandbox needs no ``saml:`` block.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR = "00000001006789012000"
SCHOOL = "00000001001234567000"


@dataclass(frozen=True)
class DemoUser:
    key: str
    name_id: str
    display_name: str
    org_oin: str
    role_values: tuple[str, ...]
    description: str


DEMO_USERS = (
    DemoUser(
        "privacy-operator",
        "p.devries@beheer.thuiszitterspact.example",
        "Petra de Vries",
        OPERATOR,
        ("privacy-officer",),
        "Privacy officer van de beheerorganisatie (ziet alles, keurt herleidingen goed)",
    ),
    DemoUser(
        "admin-operator",
        "a.jansen@beheer.thuiszitterspact.example",
        "Ahmed Jansen",
        OPERATOR,
        ("gateway-admin",),
        "Beheerder van de beheerorganisatie (organisaties en clients)",
    ),
    DemoUser(
        "privacy-school",
        "m.bakker@regenboog.school.example",
        "Marieke Bakker",
        SCHOOL,
        ("privacy-officer",),
        "Privacy officer van OBS De Regenboog (ziet alleen eigen gegevens)",
    ),
    DemoUser(
        "no-role",
        "t.visser@regenboog.school.example",
        "Tim Visser",
        SCHOOL,
        ("teacher",),
        "Leerkracht zonder rol in de gateway (krijgt geen toegang)",
    ),
)


def demo_user(key: str) -> DemoUser | None:
    return next((user for user in DEMO_USERS if user.key == key), None)
