"""The dashboard's pact charts (design section 8): Dutch labels, a suppressed cell drawn as a
hatched "<5" bar (never a number), a withheld cell as a dash, and a partner's page counting
only the processes it took part in.

The case API is written in parallel with these charts, so the cases are rows written into the
pact tables here; the page reads them through the real monitoring service and its pact source.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.clock import local_date
from gateway.pact.models import PactCase, PactEscalation, PactParticipant
from gateway.storage.models import Organisation
from gateway.web.views.dashboard import month_label
from tests.saml_helpers import devidp_login, gateway_app

SCHOOL, SWV, GGD, LEERPLICHT = (
    "00000001001234567000",
    "00000001002345678000",
    "00000001003456789000",
    "00000001005678901000",
)
TODAY = local_date(datetime.now(UTC), "Europe/Amsterdam")
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory):
    application = gateway_app(tmp_path_factory.mktemp("web-dashboard-pact"), keys_dir)
    seed(application)
    yield application
    application.extensions["gateway"].db.dispose()


def seed(app) -> None:
    """Today: 3 consultations the school convened with the GGD (a "<5" month); 2 exemption
    requests advised 'unfit' and 6 'fit with adjustments' (the 6 is withheld beside the 2);
    6 escalations reported by leerplicht to the SWV, open."""
    with app.extensions["gateway"].db.session() as session, session.begin():
        ids = dict(session.execute(select(Organisation.oin, Organisation.id)).all())

        def case(kind, convener, **columns):
            case_id = str(uuid.uuid4())
            session.add(
                PactCase(
                    id=case_id,
                    kind=kind,
                    subject_ref=f"child-{uuid.uuid4()}",
                    purpose="case_consultation",
                    created_at=NOW,
                    updated_at=NOW,
                    convener_org_id=ids.get(convener),
                    **columns,
                )
            )
            session.flush()
            if convener:
                session.add(
                    PactParticipant(
                        case_id=case_id,
                        org_id=ids[convener],
                        role="convener",
                        status="convener",
                        case_ref=str(uuid.uuid4()),
                        joined_at=NOW,
                    )
                )
            return case_id

        for _ in range(3):
            case_id = case("consultation", SCHOOL, status="open", meeting_date=TODAY)
            session.add(
                PactParticipant(
                    case_id=case_id,
                    org_id=ids[GGD],
                    role="invitee",
                    status="accepted",
                    case_ref=str(uuid.uuid4()),
                    joined_at=NOW,
                )
            )
        for advice in ["unfit_for_school"] * 2 + ["fit_with_adjustments"] * 6:
            case(
                "exemption_advice",
                LEERPLICHT,
                status="decided",
                requested_on=TODAY,
                advice_medical=advice,
                decision="not_exempted",
            )
        for _ in range(6):
            case_id = case("escalation", None, status="open", region_code="groningen")
            session.add(
                PactEscalation(
                    case_id=case_id,
                    subject_ref=f"child-{uuid.uuid4()}",
                    reporter_org_id=ids[LEERPLICHT],
                    holder_org_id=ids[SWV],
                    region_code="groningen",
                    category="absolute_absence",
                    since_date=TODAY,
                    norm_days=42,
                    fired_on=TODAY,
                    delivered=True,
                )
            )


def page(app, user) -> str:
    client = app.test_client()
    assert devidp_login(client, user).status_code == 303
    response = client.get("/ui/")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def chart(body: str, chart_id: str) -> str:
    """One chart's SVG, a label wrapped over several lines read as one."""
    svg = re.search(rf'<svg [^>]*aria-labelledby="{chart_id}-t.*?</svg>', body).group(0)
    return re.sub(r"</tspan><tspan [^>]*>", " ", svg)


def test_the_operator_sees_four_pact_charts_in_dutch(app):
    body = page(app, "privacy-operator")
    assert "Processen van het pact schooljaar" in body
    for title in (
        "Casusoverleggen per maand",
        "Verzoeken om vrijstelling naar medisch advies",
        "Escalaties per maand",
        "Tijd tot plaatsing",
    ):
        assert f">{title}</title>" in body
    advice = chart(body, "pact-advice")
    assert "Niet in staat onderwijs te volgen (grond art. 5 onder a)" in advice
    assert "Onderwijs mogelijk met aanpassingen" in advice and "Geen advies ontvangen" in advice
    placement = chart(body, "pact-placement")
    for band in ("Korter dan 6 weken", "6 weken tot 3 maanden", "3 maanden of langer"):
        assert band in placement
    assert "unfit_for_school" not in body and "under_6_weeks" not in body  # no codes
    escalations = chart(body, "pact-escalations")
    assert "Geopend" in escalations and "Open aan het eind van de maand" in escalations


def test_a_small_cell_is_a_hatched_bar_marked_less_than_five_never_a_number(app):
    body = page(app, "privacy-operator")
    month = month_label(TODAY)
    consultations = chart(body, "pact-consultations")
    [bar] = re.findall(r'<rect [^>]*class="small-cell"[^>]*>.*?</rect>', consultations)
    assert 'fill="url(#pact-consultations-hatch-0)"' in bar
    assert f"<title>{month}: Gehouden: minder dan 5</title>" in bar
    assert "&lt;5</text>" in consultations
    assert '<pattern id="pact-consultations-hatch-0"' in consultations
    # the 3 consultations appear nowhere as a number: not in the chart, not in its table
    assert not re.search(r"Gehouden: 3\b", consultations)
    table = re.search(r"<caption>Casusoverleggen per maand</caption>.*?</table>", body).group(0)
    assert '<td class="number">&lt;5</td>' in table and ">3<" not in table
    advice = chart(body, "pact-advice")
    [small] = re.findall(r'<rect [^>]*class="small-cell"[^>]*>.*?</rect>', advice)
    assert (
        "Niet in staat onderwijs te volgen (grond art. 5 onder a): Verzoeken: minder dan 5" in small
    )
    # the 6 beside the single "<5" is withheld: a dash, no bar, no number
    assert "Onderwijs mogelijk met aanpassingen: Verzoeken: weggelaten" in advice
    assert not re.search(r"Verzoeken: [0-9]", advice)
    # the 6 open escalations are a number: a solid bar and a point on the line
    escalations = chart(body, "pact-escalations")
    assert f"<title>{month}: Geopend: 6</title>" in escalations
    assert f"<title>{month}: Open aan het eind van de maand: 6</title>" in escalations
    assert "small-cell" not in escalations


def test_a_partner_page_counts_only_the_processes_it_took_part_in(app):
    body = page(app, "privacy-school")
    assert "waaraan" in body  # "... waaraan <school> deelnam"
    consultations = chart(body, "pact-consultations")
    assert "Gehouden: minder dan 5" in consultations  # it convened them
    escalations = chart(body, "pact-escalations")  # leerplicht reported them, the SWV holds them
    month = month_label(TODAY)
    assert f"<title>{month}: Open aan het eind van de maand: 0</title>" in escalations
    assert not re.search(r"Geopend: (minder|weggelaten|[1-9])", escalations)
    advice = chart(body, "pact-advice")  # leerplicht convened them, the GGD advised
    assert not re.search(r"Verzoeken: (minder|weggelaten|[1-9])", advice)
