"""Valid example messages for every route, written from API.md section 3 (not from the code)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gateway.clock import local_date

SCHOOL = "00000001001234567000"
SWV = "00000001002345678000"
GGD = "00000001003456789000"
WIJ = "00000001004567890000"
LEERPLICHT = "00000001005678901000"
OPERATOR = "00000001006789012000"
GGD_2 = "00000001003456789111"

ORGANISATIONS = [
    (SCHOOL, "OBS De Regenboog", "school"),
    (SWV, "SWV Groningen Stad", "swv"),
    (GGD, "GGD Groningen", "ggd"),
    (WIJ, "WIJ Groningen", "wij"),
    (LEERPLICHT, "Leerplicht Groningen", "leerplicht"),
    (OPERATOR, "Gateway Beheer", "operator"),
    (GGD_2, "GGD Drenthe", "ggd"),
]

# the regional world of issue 20 (docs/pact-workflows.md 6.2, 10.2), opt-in
# (``register_partners(..., regions=True)``): more organisations change what the tests of the
# default world count
SWV_VO = "00000001002345678111"
LEK_LEERPLICHT = "00000001007000000001"
LEK_SCHOOL = "00000001007000000002"
LEK_SWV = "00000001007000000003"

REGION_ORGANISATIONS = [
    (SWV_VO, "SWV VO Groningen", "swv"),
    (LEK_LEERPLICHT, "Gemeente Nieuwegein Leerplicht", "leerplicht"),
    (LEK_SCHOOL, "Cals College Nieuwegein", "school"),
    (LEK_SWV, "SWV VO Zuid Utrecht", "swv"),
]
SERVES = {
    LEERPLICHT: {"municipalities": ["0014"]},
    SWV: {"regions": ["groningen"], "sectors": ["po", "so"]},
    SWV_VO: {"regions": ["groningen"], "sectors": ["vo", "vso"]},
    LEK_LEERPLICHT: {"municipalities": ["0356"]},
    LEK_SWV: {"regions": ["lekstroom"]},
}
"""``serves`` of the organisations in the regional world."""

GRONINGEN_BASIS = (
    "Thuiszitterspact 2.0 Groningen 2021-2024: regionale afspraken over regie en "
    "doorzettingsmacht (AVG art. 6 lid 1 onder e)"
)
LEKSTROOM_BASIS = (
    "Convenant Thuiszittersaanpak Lekstroom 2017-2020: regie en doorzettingsmacht "
    "(AVG art. 6 lid 1 onder e)"
)
REGIONS = [
    {
        "code": "groningen",
        "name": "Thuiszitterspact 2.0 Groningen",
        "municipalities": ["0014"],
        "homebound_norm_days": 91,
        "escalation_recipient": SWV,
        "escalation_basis": GRONINGEN_BASIS,
    },
    {
        "code": "lekstroom",
        "name": "Thuiszittersaanpak Lekstroom",
        # Houten, IJsselstein, Lopik, Nieuwegein, Vijfheerenlanden
        "municipalities": ["0321", "0353", "0331", "0356", "1961"],
        "homebound_norm_days": 42,
        "escalation_recipient": LEK_SWV,
        "escalation_basis": LEKSTROOM_BASIS,
    },
]
"""The ``regions`` block of the regional world, as the bootstrap file takes it."""

BSN = "111222333"
OTHER_BSN = "123456782"
CONTACT = {"name": "J. de Vries", "email": "j.devries@regenboog.example.nl", "phone": "+31 50 123 4567"}


def today() -> date:
    """The contract's today (Europe/Amsterdam), which between 23:00 and 24:00 UTC is already
    the machine's tomorrow: a consent or payload dated by ``date.today()`` then is off by one."""
    return local_date(datetime.now(UTC))


def born(today: date, years: int) -> str:
    """A date of birth that makes the child ``years`` old (birthday 40 days ago)."""
    day = today - timedelta(days=40)
    return day.replace(year=day.year - years).isoformat()


def absence_report(today: date) -> dict:
    return {
        "absence_type": "relative",
        "start_date": (today - timedelta(days=30)).isoformat(),
        "unauthorised_hours_4_weeks": 42,
        "reason_category": "unauthorised",
        "education_sector": "vo",
        "school_brin": "12AB",
        "date_of_birth": born(today, 14),
        "grade": "2 havo",
        "contact": CONTACT,
        "remarks": "Mist sinds september veel lessen.",
    }


def sickness_absence_referral(today: date) -> dict:
    return {
        "sick_days_12_weeks": 14,
        "sick_reports_12_weeks": 5,
        "education_sector": "vo",
        "date_of_birth": born(today, 13),
        "concern": "Vaak ziek gemeld op maandag.",
        "contact": CONTACT,
    }


def jgz_advice(today: date) -> dict:
    return {
        "advice": "partial_attendance",
        "follow_up_date": (today + timedelta(days=14)).isoformat(),
        "contact": {"name": "Jeugdarts K. Bakker", "email": "k.bakker@ggd.example.nl"},
    }


def support_request(today: date) -> dict:
    return {
        "concern_categories": ["family_situation", "wellbeing"],
        "urgency": "urgent",
        "education_sector": "po",
        "date_of_birth": born(today, 9),
        "contact": CONTACT,
    }


def support_feedback(today: date) -> dict:
    return {"involvement": "in_progress", "contact": {"name": "WIJ-team Oost", "email": "oost@wij.example.nl"}}


def homebound_report(today: date) -> dict:
    return {
        "category": "long_relative_absence",
        "since_date": (today - timedelta(days=60)).isoformat(),
        "education_sector": "vo",
        "date_of_birth": born(today, 15),
        "perspective": "placed",
        "placed_date": (today - timedelta(days=5)).isoformat(),
    }
