"""Status derived from dates and acts, in Europe/Amsterdam days (consent/status.py)."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from consent.records import Actor, Consent
from consent.status import status_at

SCHOOL = Actor("00000001001234567000", "school", 1, "sis")
CONSENT = Consent(
    id="c-1",
    subject_ref="ref",
    purpose="mazl",
    parties=("school", "ggd"),
    grantor_roles=("parent",),
    valid_from=date(2025, 3, 1),
    valid_until=date(2025, 6, 30),
    evidence_method="written",
    recorded_by=SCHOOL,
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (datetime(2025, 2, 28, 22, 59, 59, tzinfo=UTC), "pending"),  # 23:59:59 in Amsterdam
        (datetime(2025, 2, 28, 23, 0, 0, tzinfo=UTC), "active"),  # 00:00 on 1 March there
        (datetime(2025, 6, 30, 21, 59, 59, tzinfo=UTC), "active"),  # last second (CEST)
        (datetime(2025, 6, 30, 22, 0, 0, tzinfo=UTC), "expired"),
    ],
)
def test_dates_are_inclusive_local_days(at, status):
    assert status_at(CONSENT, at) == status


def test_withdrawal_counts_from_its_moment_and_wins_over_dates():
    withdrawn = replace(CONSENT, withdrawn_at=datetime(2025, 4, 1, 12, tzinfo=UTC))
    assert status_at(withdrawn, datetime(2025, 4, 1, 11, 59, tzinfo=UTC)) == "active"
    assert status_at(withdrawn, datetime(2025, 4, 1, 12, tzinfo=UTC)) == "withdrawn"
    assert status_at(withdrawn, datetime(2026, 1, 1, tzinfo=UTC)) == "withdrawn"


def test_superseded_counts_from_its_moment():
    superseded = replace(
        CONSENT, superseded_at=datetime(2025, 4, 1, tzinfo=UTC), superseded_by="c-2"
    )
    assert status_at(superseded, datetime(2025, 3, 31, tzinfo=UTC)) == "active"
    assert status_at(superseded, datetime(2025, 4, 2, tzinfo=UTC)) == "superseded"


def test_other_timezone():
    at = datetime(2025, 2, 28, 23, 30, tzinfo=UTC)
    assert status_at(CONSENT, at, "UTC") == "pending"
    assert status_at(CONSENT, at, "Europe/Amsterdam") == "active"
