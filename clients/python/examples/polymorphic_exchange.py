"""A school refers a child to the GGD in polymorphic mode; the GGD answers by its pseudonym.

    python clients/python/examples/polymorphic_exchange.py \\
        --base-url http://127.0.0.1:8000 \\
        --school-client-id regenboog-sis --school-key regenboog-sis.private.jwk.json \\
        --ggd-client-id ggd-jgz --ggd-key ggd-jgz.private.jwk.json \\
        --ggd-oin 00000001003456789000 --bsn 123456782

What happens, in order:

1. the school records the parents' consent for MAZL (the route needs it), naming the child
   by a polymorphic subject: the BSN never leaves the school;
2. the school sends a ``sickness_absence_referral`` to the GGD, again polymorphic;
3. the GGD receives it and decrypts its own pseudonym for the child;
4. the GGD replies with a ``jgz_advice`` naming the child by that pseudonym (proven to be the
   child of the referral), ``in_reply_to`` the referral;
5. the school receives the advice under its own pseudonym for the child.

Both organisations must be enabled for polymorphic mode and have key shares issued
(``gateway keys pep-issue``); see clients/python/README.md. The BSN is never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from thuiszitterspact_client import GatewayClient, GatewayError, InvalidBsnError, load_private_jwk

CONTACT = {"name": "J. de Vries", "email": "j.devries@regenboog.example.nl"}


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def born(today: date, years: int) -> str:
    """A date of birth that makes the child ``years`` old (birthday 40 days ago)."""
    return years_before(today - timedelta(days=40), years).isoformat()


def consent_body(school_oin: str, today: date) -> dict:
    """Parents' written consent for MAZL between this school and the GGD, for a year."""
    return {
        "date_of_birth": born(today, 10),
        "purpose": "mazl",
        "parties": [school_oin, "ggd"],
        "granted_by": [{"role": "parent"}],
        "valid_from": today.isoformat(),
        "valid_until": years_before(today, -1).isoformat(),
        "evidence": {"method": "written", "reference": "MAZL-formulier 2025-001"},
    }


def referral(today: date) -> dict:
    return {
        "sick_days_12_weeks": 14,
        "sick_reports_12_weeks": 5,
        "education_sector": "po",
        "date_of_birth": born(today, 10),
        "concern": "Vaak ziek gemeld op maandag.",
        "contact": CONTACT,
    }


def advice(today: date, in_reply_to: str) -> dict:
    return {
        "in_reply_to": in_reply_to,
        "advice": "partial_attendance",
        "follow_up_date": (today + timedelta(days=14)).isoformat(),
        "contact": {"name": "Jeugdarts K. Bakker", "email": "k.bakker@ggd.example.nl"},
    }


def wait_for(client: GatewayClient, exchange_id: str, attempts: int = 10) -> dict:
    """The inbox item with this id (delivery is normally immediate; poll a little)."""
    for _ in range(attempts):
        for item in client.receive():
            if item["id"] == exchange_id:
                return item
        time.sleep(0.5)
    raise SystemExit(f"exchange {exchange_id} did not arrive")


def run(school: GatewayClient, ggd: GatewayClient, ggd_oin: str, bsn: str) -> dict:
    """The whole conversation; returns what each side saw (no BSN in it)."""
    today = date.today()
    consent = school.record_consent(consent_body(school.oin, today), bsn)
    sent = school.send_polymorphic("sickness_absence_referral", ggd_oin, bsn, referral(today))

    received = wait_for(ggd, sent["id"])
    # what the GGD stores to be able to reply later: id, encrypted_pseudonym, pseudonym
    stored = {
        "id": received["id"],
        "encrypted_pseudonym": received["subject"]["encrypted_pseudonym"],
        "pseudonym": received["pseudonym"],
    }
    answer = ggd.reply(
        "jgz_advice", received["sender"]["oin"], received, advice(today, received["id"])
    )
    ggd.ack(received["id"])

    arrived = wait_for(school, answer["id"])
    school.ack(arrived["id"])
    return {
        "consent": consent["id"],
        "referral": sent["id"],
        "ggd_pseudonym": stored["pseudonym"],
        "advice": answer["id"],
        "school_pseudonym": arrived["pseudonym"],
        "advice_payload": arrived["payload"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--school-client-id", required=True)
    parser.add_argument("--school-key", type=Path, required=True, help="private JWK file")
    parser.add_argument("--ggd-client-id", required=True)
    parser.add_argument("--ggd-key", type=Path, required=True, help="private JWK file")
    parser.add_argument("--ggd-oin", required=True, help="the GGD's OIN (20 digits)")
    parser.add_argument("--bsn", required=True, help="the child's BSN (never printed)")
    args = parser.parse_args(argv)

    school = GatewayClient(args.base_url, args.school_client_id, load_private_jwk(args.school_key))
    ggd = GatewayClient(
        args.base_url, args.ggd_client_id, load_private_jwk(args.ggd_key), oin=args.ggd_oin
    )
    try:
        result = run(school, ggd, args.ggd_oin, args.bsn)
    except GatewayError as error:
        print(f"refused: {error}", file=sys.stderr)
        if error.errors:
            print(json.dumps(error.errors, indent=2), file=sys.stderr)
        return 1
    except InvalidBsnError as error:  # the message never contains the BSN
        print(f"refused: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
