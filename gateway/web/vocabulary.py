"""The Dutch text of every problem code, in one place.

The API answers a stable ``code`` (:data:`gateway.errors.TABLE`); a person at a browser reads
the text below instead. The web pages, the SAML login pages and the privacy officer's desk
take their texts from here, so a code is explained the same way everywhere.
``tests/unit/gateway/test_problem_table.py`` fails when a code the gateway can answer has no
text: add the text here when you add a code.

Below the problem texts it holds the Dutch name of every other code a person can see
(message types, purposes, actions, payload fields, pact indicators, ...), one table per kind,
reachable as ``name(kind, code)``: the pages, the exports and the server's messages all name
a code the same way, and ``tests/unit/gateway/web/test_labels.py`` fails on a code without one.
"""

from __future__ import annotations

import re

FALLBACK = "Het verzoek kon niet worden verwerkt."

TEXTS: dict[str, str] = {
    # Werkzeug's HTTP errors and the last resort
    "bad_request": FALLBACK,
    "unauthorized": "Je bent niet ingelogd.",
    "forbidden": "Je hebt geen toegang tot deze pagina.",
    "not_found": "Deze pagina bestaat niet.",
    "method_not_allowed": "Deze pagina kan zo niet worden gebruikt.",
    "not_acceptable": "Dit antwoordformaat wordt niet geleverd.",
    "conflict": "Dit botst met de huidige toestand; laad de pagina opnieuw.",
    "payload_too_large": "Het verzoek is te groot.",
    "uri_too_long": "Het adres is te lang.",
    "unsupported_media_type": "Het verzoek heeft een vorm die de gateway niet aanneemt.",
    "too_many_requests": (
        "Er kwamen te veel verzoeken van dit adres. Wacht even en probeer het dan opnieuw."
    ),
    "request_header_fields_too_large": "De kopregels van het verzoek zijn te groot.",
    "internal_error": "Er ging iets mis in de gateway. Probeer het later opnieuw.",
    "service_unavailable": "De gateway is tijdelijk niet beschikbaar. Probeer het later opnieuw.",
    # the body of a request
    "invalid_json": "De inhoud van het verzoek is geen geldige JSON.",
    "invalid_parameter": "Een zoekveld of paginanummer is niet geldig.",
    "validation_failed": "Het verzoek is niet volledig of niet juist ingevuld.",
    # access
    "missing_token": "Er is geen toegangssleutel meegestuurd.",
    "invalid_token": "De toegangssleutel is ongeldig, verlopen of ingetrokken.",
    "insufficient_scope": "Je organisatie heeft voor deze handeling geen toestemming.",
    # the exchange
    "unknown_recipient": "De ontvangende organisatie is niet bekend.",
    "recipient_suspended": "De ontvangende organisatie is tijdelijk geschorst.",
    "route_not_allowed": "Dit bericht mag niet naar deze ontvanger.",
    "consent_missing": "Er is geen toestemming vastgelegd voor deze uitwisseling.",
    "consent_withdrawn": "De toestemming voor deze uitwisseling is ingetrokken.",
    "consent_expired": "De toestemming voor deze uitwisseling is verlopen.",
    "idempotency_key_missing": "Het verzoek mist een Idempotency-Key.",
    "idempotency_key_invalid": "De Idempotency-Key is niet geldig.",
    "idempotency_key_reused": "Deze Idempotency-Key is al gebruikt voor een ander bericht.",
    "transaction_id_reused": "Dit transactienummer is al gebruikt voor een andere ontvanger.",
    "exchange_retracted": "De verzender heeft dit bericht ingetrokken; bevestigen kan niet meer.",
    "exchange_not_retractable": "Alleen een eigen verzonden bericht kan worden ingetrokken.",
    "retraction_conflict": "Deze intrekking noemt al een ander bericht als correctie.",
    "bsn_required": "Deze ontvanger heeft het BSN van het kind nodig.",
    # recipients by role and region (issue 20)
    "recipient_unresolved": (
        "Geen organisatie bedient dit adres (soort organisatie met gemeente of regio)."
    ),
    "recipient_ambiguous": (
        "Meer dan één organisatie bedient dit adres; noem de ontvanger bij haar OIN."
    ),
    # the pact's cases (issue 20)
    "case_error": "De casus kon niet worden verwerkt.",
    "case_action_not_allowed": (
        "Deze handeling past niet bij de rol van je organisatie in deze casus."
    ),
    "case_closed": "Deze casus is gesloten; er kan niets meer aan worden gedaan.",
    "case_already_answered": "Je organisatie heeft deze uitnodiging al anders beantwoord.",
    "unknown_participant": "Deze organisatie neemt niet (meer) deel aan de casus.",
    # children, pseudonyms and polymorphic subjects
    "invalid_bsn": "Dit is geen geldig BSN.",
    "unknown_pseudonym": "Dit pseudoniem is niet aan jouw organisatie uitgegeven.",
    "unknown_reference": "Deze verwijzing naar een kind is niet bekend.",
    "invalid_input": "Het invoerbestand is niet bruikbaar.",
    "pseudonymise_error": "Het pseudonimiseren is mislukt.",
    "invalid_polymorphic": "Het polymorfe pseudoniem is niet geldig.",
    "wrong_key": "Dit versleutelde gegeven is niet voor deze sleutel bedoeld.",
    "unknown_domain": "Voor dit domein zijn geen polymorfe sleutels uitgegeven.",
    "polymorphic_unavailable": "Polymorf pseudonimiseren is op deze gateway niet ingericht.",
    "polymorphic_not_enabled": "Je organisatie doet niet mee aan polymorf pseudonimiseren.",
    "polymorphic_not_allowed": "Deze uitwisseling kan niet met een polymorf pseudoniem.",
    "recipient_not_polymorphic": "De ontvanger doet niet mee aan polymorf pseudonimiseren.",
    "key_share_not_issued": "Voor deze koppeling is nog geen sleuteldeel uitgegeven.",
    # consents and signals
    "consent_error": "De toestemming kon niet worden verwerkt.",
    "consent_grantor_invalid": "Wie toestemming gaf, mag dat voor een kind van deze leeftijd niet.",
    "consent_withdraw_not_allowed": "Je organisatie mag deze toestemming niet intrekken.",
    "signal_not_allowed": "Organisaties van jouw soort geven geen signalen af.",
    # re-identification (the privacy officer's desk)
    "not_operator": "Alleen de beheerorganisatie beoordeelt verzoeken.",
    "own_request": "Een organisatie beoordeelt nooit haar eigen verzoek.",
    "not_pending": "Over dit verzoek is al beslist, of het is verlopen.",
    "polymorphic_not_reversible": "Een polymorf pseudoniem kan de gateway niet herleiden.",
    # the audit log
    "audit_chain_invalid": "De auditlog is niet meer aaneengesloten; er is geen bewijs te geven.",
    "audit_log_rewound": (
        "De auditlog is teruggezet tot vóór een gepubliceerd controlepunt; er worden geen "
        "bewijzen gegeven tot de beheerder dit heeft bevestigd."
    ),
    # the registry and the outbox (beheer)
    "registry_error": "Het register kon dit niet verwerken.",
    "invalid_registration": "Een gegeven van de registratie is niet geldig.",
    "unknown_organisation": "Deze organisatie is niet bekend.",
    "unknown_client": "Deze koppeling is niet bekend.",
    "duplicate_registration": "Deze organisatie of koppeling bestaat al.",
    "delivery_error": "Dit bericht kan niet opnieuw worden afgeleverd.",
    "not_retryable": "Alleen opgegeven berichten kunnen opnieuw worden afgeleverd.",
    "payload_erased": "De inhoud van dit bericht is al gewist.",
    # SAML login
    "saml_error": "Het inloggen is mislukt.",
    "saml_not_configured": (
        "Eenmalig inloggen (single sign-on) is voor deze gateway niet ingericht."
    ),
    "saml_malformed": "Het antwoord van de identiteitsprovider is ongeldig en is geweigerd.",
    "saml_refused": (
        "Het antwoord van de identiteitsprovider voldoet niet aan de beveiligingseisen en is "
        "geweigerd. Er is geen sessie aangemaakt."
    ),
    "saml_not_vouched": "Deze identiteitsprovider mag niet namens uw organisatie inloggen.",
    "saml_idp_unavailable": "Inloggen via deze identiteitsprovider kan op dit moment niet.",
    "saml_choose_idp": "Kies uw organisatie of inlogmiddel om in te loggen.",
    "saml_metadata": (
        "De gegevens (metadata) van deze identiteitsprovider zijn niet bruikbaar; inloggen "
        "via deze identiteitsprovider kan nu niet."
    ),
}

TITLES = {
    400: "Ongeldig verzoek",
    403: "Geen toegang",
    404: "Pagina niet gevonden",
    405: "Methode niet toegestaan",
    413: "Verzoek te groot",
    429: "Te veel verzoeken",
    503: "Niet beschikbaar",
}


def text(code: str) -> str:
    """The Dutch text of a problem code (the general one for a code not listed)."""
    return TEXTS.get(code, FALLBACK)


def title(status: int) -> str:
    """The Dutch title of an error page with this status."""
    return TITLES.get(status, "Fout")


# --- Dutch names of the codes a person can see -------------------------------------------------
# The data keeps its codes (API.md); a page shows the name below instead. One table per kind,
# so ``tests/unit/gateway/web/test_labels.py`` can hold each against the product's own list of
# codes (``schemas.vocabulary``, ``gateway.registry.rules``, the route policies).

MESSAGE_TYPES = {
    "absence_report": "Verzuimmelding",
    "sickness_absence_referral": "Verwijzing bij ziekteverzuim",
    "jgz_advice": "Advies van de jeugdgezondheidszorg",
    "support_request": "Ondersteuningsvraag",
    "support_feedback": "Terugkoppeling op een ondersteuningsvraag",
    "homebound_report": "Thuiszittersmelding",
    "signal_match": "Gekoppelde signalen",
    "homebound_alert": "Waarschuwing thuiszitter",
    "case_invitation": "Uitnodiging casusoverleg",
    "case_response": "Reactie op uitnodiging",
    "case_agreements": "Afspraken casusoverleg",
    "case_reminder": "Herinnering afspraak",
    "exemption_advice_request": "Adviesvraag vrijstelling",
    "exemption_medical_advice": "Advies jeugdarts (vrijstelling)",
    "exemption_education_advice": "Advies samenwerkingsverband (vrijstelling)",
    "homebound_escalation": "Escalatie thuiszitter",
    "homebound_escalation_closed": "Escalatie beëindigd",
    "retraction": "Kennisgeving van intrekking",
    "consent_withdrawn": "Kennisgeving: toestemming ingetrokken",
}
PURPOSES = {
    "leerplicht_enforcement": "Handhaving van de leerplicht",
    "passend_onderwijs": "Passend onderwijs (zorgplicht)",
    "mazl": "MAZL (ziekteverzuim)",
    "support": "Ondersteuning (WIJ)",
    "homebound_monitoring": "Zicht op thuiszitters",
    "signal_matching": "Koppelen van signalen",
    "case_consultation": "Casusoverleg",
    "exemption_advice": "Advies vrijstelling leerplicht",
    "homebound_escalation": "Regie en doorzettingsmacht thuiszitters",
}
LEGAL_BASIS_TYPES = {"legal_obligation": "Wettelijke plicht", "consent": "Toestemming"}
ORGANISATION_TYPES = {
    "school": "School",
    "swv": "Samenwerkingsverband",
    "ggd": "GGD",
    "wij": "WIJ-team",
    "leerplicht": "Leerplicht",
    "operator": "Beheerorganisatie",
}
ORGANISATION_STATUSES = {"active": "actief", "suspended": "geschorst"}
CONSENT_STATUSES = {
    "active": "geldig",
    "pending": "nog niet ingegaan",
    "expired": "verlopen",
    "withdrawn": "ingetrokken",
    "superseded": "vervangen",
}
REIDENTIFICATION_STATUSES = {
    "pending": "wacht op besluit",
    "approved": "goedgekeurd",
    "refused": "geweigerd",
    "expired": "verlopen",
    "consumed": "goedgekeurd en opgehaald",
}
GRANTOR_ROLES = {"parent": "ouder", "guardian": "voogd", "youth": "jongere"}
EVIDENCE_METHODS = {"written": "schriftelijk", "digital": "digitaal", "verbal": "mondeling"}
DECISIONS = {"allowed": "toegestaan", "denied": "geweigerd"}
SCOPES = {
    "exchange:send": "berichten versturen",
    "exchange:receive": "berichten ontvangen",
    "consent:write": "toestemmingen vastleggen",
    "consent:read": "toestemmingen inzien",
    "signal:write": "signalen afgeven",
    "reidentify:request": "herleiding aanvragen",
    "reidentify:approve": "herleidingen beoordelen",
    "audit:read": "auditlog inzien",
    "monitoring:read": "monitoring inzien",
}
AUTH_METHODS = {
    "private_key_jwt": "Ondertekende verklaring (JWKS)",
    "tls_client_auth": "Certificaat (TLS)",
    "client_secret_basic": "Wachtwoord (alleen ontwikkeling)",
}
ACTIONS = {
    "exchange.send": "bericht verstuurd",
    "exchange.deliver": "bericht afgeleverd",
    "exchange.ack": "ontvangst bevestigd",
    "exchange.dead_letter": "aflevering opgegeven",
    "exchange.retract": "bericht ingetrokken",
    "exchange.retraction_confirm": "wissen na intrekking bevestigd",
    "exchange.correct": "bericht gecorrigeerd",
    "exchange.notify": "kennisgeving verstuurd",
    "consent.record": "toestemming vastgelegd",
    "consent.withdraw": "toestemming ingetrokken",
    "consent.read": "toestemming bekeken",
    "consent.search": "toestemmingen gezocht",
    "signal.create": "signaal afgegeven",
    "signal.match": "signalen gekoppeld",
    "signal.close": "signaal gesloten",
    "reidentification.request": "herleiding aangevraagd",
    "reidentification.approve": "herleiding goedgekeurd",
    "reidentification.refuse": "herleiding geweigerd",
    "reidentification.read": "herleiding opgehaald",
    "audit.search": "auditlog doorzocht",
    "audit.subject_report": "inzagerapport gemaakt",
    "audit.export": "auditlog geëxporteerd",
    "audit.verify": "integriteit gecontroleerd",
    "audit.proof": "bewijs van de auditlog opgevraagd",
    "audit.gap_detected": "terugzetting van de auditlog ontdekt",
    "audit.gap_acknowledged": "terugzetting van de auditlog bevestigd",
    "admin.retention.purge": "bewaartermijnen toegepast: gegevens gewist",
    "auth.failure": "inloggen mislukt",
    "pep.key_share": "sleuteldeel uitgegeven",
    # the pact's workflows (issue 20)
    "case.open": "casus geopend",
    "case.accept": "uitnodiging casusoverleg aangenomen",
    "case.decline": "uitnodiging casusoverleg afgeslagen",
    "case.agree": "afspraken vastgelegd",
    "case.agreement_done": "afspraak afgerond",
    "case.remind": "herinnering verstuurd",
    "case.close": "casus gesloten",
    "case.read": "casus bekeken",
    "case.disclose": "betrokkenheid van een organisatie bekendgemaakt",
    "exemption.decide": "besluit over vrijstelling vastgelegd",
    "escalation.open": "thuiszitter geëscaleerd naar doorzettingsmacht",
    "escalation.close": "escalatie beëindigd",
    "admin.pact.run": "beheer: dagelijkse ronde van het pact uitgevoerd",
    "admin.region.create": "beheer: regio toegevoegd",
    "admin.region.update": "beheer: regio gewijzigd",
    "admin.region.delete": "beheer: regio verwijderd",
}
#: ``admin.<object>.<verb>`` events: the registry's objects and what happened to them.
ADMIN_OBJECTS = {
    "organisation": "organisatie",
    "client": "koppeling",
    "route": "route",
    "outbox": "bericht",
    "region": "regio",
    "idp": "identiteitsprovider",
}
ADMIN_VERBS = {
    "create": "toegevoegd",
    "update": "gewijzigd",
    "remove": "verwijderd",
    "suspend": "geschorst",
    "activate": "geactiveerd",
    "rotate_key": "sleutels vervangen",
    "retry": "opnieuw aangeboden",
    "delete": "verwijderd",
    "refresh": "metadata opgehaald",
}
#: Short names of refusal codes for tables and charts; other codes use their sentence.
REFUSALS = {
    "route_not_allowed": "Route niet toegestaan",
    "consent_missing": "Geen toestemming",
    "consent_withdrawn": "Toestemming ingetrokken",
    "consent_expired": "Toestemming verlopen",
    "unknown_recipient": "Onbekende ontvanger",
    "recipient_suspended": "Ontvanger geschorst",
    "insufficient_scope": "Geen bevoegdheid",
    "bsn_required": "BSN nodig",
    "validation_failed": "Bericht onvolledig of onjuist",
    "unknown_pseudonym": "Onbekend pseudoniem",
    "unknown_reference": "Onbekende verwijzing",
    "invalid_bsn": "Ongeldig BSN",
    "polymorphic_not_allowed": "Polymorf niet toegestaan",
    "recipient_not_polymorphic": "Ontvanger niet polymorf",
    "idempotency_key_reused": "Idempotency-Key hergebruikt",
    "transaction_id_reused": "Transactienummer hergebruikt",
    "recipient_unresolved": "Adres niet gevonden",
    "recipient_ambiguous": "Adres niet eenduidig",
    "case_action_not_allowed": "Handeling past niet bij de rol",
    "case_closed": "Casus gesloten",
    "case_already_answered": "Uitnodiging al beantwoord",
    "unknown_participant": "Geen deelnemer",
}
#: The fields a registry refusal names first (``gateway.registry.service``), in Dutch.
REGISTRATION_FIELDS = {
    "oin": "het OIN (20 cijfers)",
    "name": "de naam (1 tot 200 tekens)",
    "type": "het soort organisatie",
    "status": "de status",
    "auth": "de inlogmethode",
    "jwks": "de JWKS (openbare sleutels als JSON)",
    "tls_client_cert_sha256": "de vingerafdruk van het certificaat (64 hexadecimale tekens)",
    "client_id": "het client-ID (letters, cijfers, '.', '_' of '-')",
    "scopes": "de bevoegdheden",
    "delivery_url": "het afleveradres",
}

#: Payload fields of the message types (``schemas.messages``, nested ones such as the contact's
#: ``email`` included) and the coarser fields the route policies make of them (``birth_year``):
#: what the inzage answer and the exports say was forwarded, withheld or generalised.
FIELDS = {
    "absence_type": "soort verzuim",
    "action": "afspraak",
    "advice": "advies",
    "agreement_no": "nummer van de afspraak",
    "agreements": "afspraken",
    "alert": "waarschuwing",
    "arrangement": "aanbod in het onderwijs",
    "available_from": "beschikbaar vanaf",
    "birth_year": "geboortejaar",
    "case_ref": "kenmerk van de casus",
    "category": "categorie",
    "concern": "zorg",
    "concern_categories": "soorten zorg",
    "contact": "contactpersoon",
    "date": "datum",
    "date_of_birth": "geboortedatum",
    "days_at_home": "dagen thuis",
    "decline_reason": "reden van afslaan",
    "due_date": "uiterste datum",
    "education_sector": "onderwijssoort",
    "email": "e-mailadres",
    "enrolment": "inschrijving",
    "follow_up_date": "datum vervolg",
    "grade": "leerjaar",
    "holder": "houder van doorzettingsmacht",
    "in_reply_to": "antwoord op bericht",
    "involved": "betrokken organisaties",
    "involvement": "betrokkenheid",
    "matched_at": "moment van koppelen",
    "meeting": "overleg",
    "mode": "vorm",
    "name": "naam",
    "next_review_date": "datum evaluatie",
    "no": "nummer",
    "norm_days": "norm in dagen",
    "oin": "organisatienummer",
    "options": "mogelijkheden",
    "other_party": "andere organisatie",
    "participants": "deelnemers",
    "party": "uitvoerder",
    "perspective": "perspectief",
    "phone": "telefoonnummer",
    "placed_date": "datum plaatsing",
    "question": "vraag",
    "reason": "reden",
    "reason_category": "soort reden",
    "reassess_after": "opnieuw beoordelen na",
    "region": "regio",
    "regie": "regiehouder",
    "reminder": "herinnering",
    "remarks": "opmerkingen",
    "report_id": "meldingnummer",
    "reporter": "melder",
    "requested_on": "datum verzoek",
    "respond_by": "reageren vóór",
    "response": "reactie",
    "role": "rol",
    "school_brin": "schoolnummer (BRIN)",
    "school_year": "schooljaar",
    "sick_days_12_weeks": "ziektedagen in 12 weken",
    "sick_reports_12_weeks": "ziekmeldingen in 12 weken",
    "signal_id": "signaalnummer",
    "since_date": "datum sinds",
    "start_date": "begindatum",
    "statement_by": "verklaring door",
    "threshold_date": "datum grens",
    "time": "tijd",
    "type": "soort organisatie",
    "unauthorised_hours_4_weeks": "ongeoorloofde uren in 4 weken",
    "urgency": "urgentie",
}
#: The pact indicators of the monitoring service (``gateway.monitoring``, API.md section 9):
#: the homebound children per category and per duration, and the three headline figures.
HOMEBOUND_CATEGORIES = {
    "absolute_absence": "Absoluut verzuim",
    "long_relative_absence": "Langdurig relatief verzuim",
    "exemption_5a": "Vrijstelling art. 5 onder a",
    "exemption_other": "Andere vrijstelling",
}
HOMEBOUND_DURATIONS = {
    "under_4_weeks": "Korter dan 4 weken",
    "4_weeks_to_3_months": "4 weken tot 3 maanden",
    "over_3_months": "Langer dan 3 maanden",
}
RETRACTION_REASONS = {
    "wrong_child": "Bericht over het verkeerde kind",
    "wrong_recipient": "Bericht naar de verkeerde ontvanger",
    "incorrect_content": "Onjuiste inhoud",
    "no_legal_basis": "Geen grondslag voor verzending",
    "other": "Andere reden",
}
# The pact's workflows (issue 20, docs/pact-workflows.md): every enumeration of
# ``schemas.vocabulary`` a page or the inzage answer can show, one table per kind.
CASE_KINDS = {
    "consultation": "Casusoverleg",
    "exemption_advice": "Advies vrijstelling (art. 5 onder a Leerplichtwet)",
    "escalation": "Escalatie (doorzettingsmacht)",
}
CASE_STATUSES = {
    "open": "lopend",
    "agreed": "afspraken gemaakt",
    "requested": "advies gevraagd",
    "advised": "advies ontvangen",
    "decided": "besloten",
    "closed": "gesloten",
}
PARTICIPANT_ROLES = {
    "convener": "bijeenroeper",
    "invitee": "genodigde",
    "adviser": "adviseur",
    "holder": "houder van doorzettingsmacht",
    "reporter": "melder",
}
PARTICIPANT_STATUSES = {
    "invited": "uitgenodigd",
    "accepted": "aangenomen",
    "declined": "afgeslagen",
    "answered": "advies gegeven",
    "notified": "op de hoogte gebracht",
}
MEETING_MODES = {"in_person": "op locatie", "online": "via video", "phone": "telefonisch"}
CASE_QUESTIONS = {
    "prevent_dropout": "Uitval voorkomen",
    "return_to_school": "Terugkeer naar school",
    "placement": "Een passende plek vinden",
    "support_at_home": "Ondersteuning thuis",
    "other": "Andere vraag",
}
CASE_RESPONSES = {"accepted": "aangenomen", "declined": "afgeslagen"}
DECLINE_REASONS = {
    "not_involved": "niet betrokken",
    "no_capacity": "geen capaciteit",
    "other_party_better_placed": "een andere organisatie kan dit beter",
    "other": "andere reden",
}
AGREEMENT_ACTIONS = {
    "support_at_school": "Ondersteuning op school",
    "adjusted_timetable": "Aangepast rooster",
    "jgz_consultation": "JGZ-consult",
    "support_trajectory": "Ondersteuningstraject",
    "leerplicht_conversation": "Gesprek met leerplicht",
    "arrangement_request": "Aanvraag arrangement",
    "placement_search": "Zoeken naar een passende plek",
    "referral_to_care": "Verwijzing naar zorg",
    "attend_conversation": "Aanwezig bij een gesprek",
    "other": "Andere afspraak",
}
AGREEMENT_PARTIES = {
    "parents": "ouders",
    "youth": "jongere",
    "school": "bijeenroepende organisatie",
}
AGREEMENT_STATUSES = {"open": "nog te doen", "done": "gedaan", "cancelled": "vervallen"}
CLOSE_REASONS = {
    "completed": "afgerond",
    "no_longer_needed": "niet meer nodig",
    "other": "andere reden",
    "consent_withdrawn": "toestemming ingetrokken",
    "consent_expired": "toestemming verlopen",
    "placed": "kind geplaatst",
    "exempted": "kind vrijgesteld",
    "exempted_5a": "vrijstelling art. 5 onder a verleend",
    "not_exempted": "geen vrijstelling",
    "request_withdrawn": "verzoek ingetrokken",
}
REMINDER_KINDS = {
    "due_today": "afspraak vandaag",
    "overdue": "afspraak over tijd",
    "party_suspended": "uitvoerder geschorst",
    "review_due": "tijd voor evaluatie",
}
MEDICAL_ADVICE = {
    "unfit_for_school": "Niet in staat onderwijs te volgen (grond art. 5 onder a)",
    "fit_with_adjustments": "Onderwijs mogelijk met aanpassingen",
    "fit_for_school": "In staat onderwijs te volgen",
    "unable_to_advise": "Geen advies mogelijk",
    "none": "Geen advies ontvangen",
}
EDUCATION_ARRANGEMENTS = {
    "available": "Beschikbaar",
    "available_with_conditions": "Beschikbaar onder voorwaarden",
    "not_available": "Niet beschikbaar",
    "none": "Geen advies ontvangen",
}
EDUCATION_OPTIONS = {
    "regular_with_support": "Regulier onderwijs met ondersteuning",
    "special_education": "Speciaal onderwijs",
    "education_care_arrangement": "Onderwijs-zorgarrangement",
    "adjusted_timetable": "Aangepast rooster",
    "digital_education": "Digitaal onderwijs",
    "other": "Andere mogelijkheid",
}
EXEMPTION_DECISIONS = {
    "exempted_5a": "Vrijstelling art. 5 onder a verleend",
    "not_exempted": "Geen vrijstelling",
    "request_withdrawn": "Verzoek ingetrokken",
}
STATEMENT_BY = {
    "physician": "arts",
    "psychologist": "psycholoog",
    "orthopedagoog": "orthopedagoog-generalist",
}
ENROLMENT = {"enrolled": "ingeschreven", "not_enrolled": "niet ingeschreven"}
INDICATORS = {
    "absolute_absence": "Absoluut verzuim",
    "long_relative_absence": "Langdurig relatief verzuim",
    "exemptions_5a": "Vrijstellingen art. 5 onder a",
}

KINDS: dict[str, dict[str, str]] = {
    "message_type": MESSAGE_TYPES,
    "purpose": PURPOSES,
    "legal_basis": LEGAL_BASIS_TYPES,
    "org_type": ORGANISATION_TYPES,
    "org_status": ORGANISATION_STATUSES,
    "consent_status": CONSENT_STATUSES,
    "reidentification_status": REIDENTIFICATION_STATUSES,
    "retraction_reason": RETRACTION_REASONS,
    "grantor": GRANTOR_ROLES,
    "evidence": EVIDENCE_METHODS,
    "decision": DECISIONS,
    "scope": SCOPES,
    "auth_method": AUTH_METHODS,
    "action": ACTIONS,
    "refusal": REFUSALS,
    "field": FIELDS,
    "homebound_category": HOMEBOUND_CATEGORIES,
    "homebound_duration": HOMEBOUND_DURATIONS,
    "indicator": INDICATORS,
    "case_kind": CASE_KINDS,
    "case_status": CASE_STATUSES,
    "participant_role": PARTICIPANT_ROLES,
    "participant_status": PARTICIPANT_STATUSES,
    "meeting_mode": MEETING_MODES,
    "case_question": CASE_QUESTIONS,
    "case_response": CASE_RESPONSES,
    "decline_reason": DECLINE_REASONS,
    "agreement_action": AGREEMENT_ACTIONS,
    "agreement_party": AGREEMENT_PARTIES,
    "agreement_status": AGREEMENT_STATUSES,
    "close_reason": CLOSE_REASONS,
    "reminder": REMINDER_KINDS,
    "medical_advice": MEDICAL_ADVICE,
    "education_arrangement": EDUCATION_ARRANGEMENTS,
    "education_option": EDUCATION_OPTIONS,
    "exemption_decision": EXEMPTION_DECISIONS,
    "statement_by": STATEMENT_BY,
    "enrolment": ENROLMENT,
}
#: What an unknown code of a kind is called (the default is "onbekend").
UNKNOWN = {"field": "ander gegeven"}


def name(kind: str, code: str | None) -> str:
    """The Dutch name of ``code`` of ``kind`` (a key of :data:`KINDS`).

    An unknown code is never shown as is (it would put a code in front of a person): actions
    and refusals get their general description, a payload field "ander gegeven", anything
    else "onbekend"."""
    if code is None or code == "":
        return ""
    if kind == "action":
        return action(code)
    if kind == "refusal":
        return refusal(code)
    return KINDS[kind].get(code, UNKNOWN.get(kind, "onbekend"))


def action(code: str) -> str:
    """The Dutch name of an audit action, ``admin.<object>.<verb>`` included."""
    if code in ACTIONS:
        return ACTIONS[code]
    if code.startswith("admin."):
        thing, _, verb = code[len("admin.") :].partition(".")
        return "beheer: " + " ".join(
            part for part in (ADMIN_OBJECTS.get(thing, "register"), ADMIN_VERBS.get(verb)) if part
        )
    return "andere handeling"


def refusal(code: str) -> str:
    """A short Dutch name of a refusal code (its sentence without the full stop otherwise)."""
    if code in REFUSALS:
        return REFUSALS[code]
    if code in TEXTS:
        return TEXTS[code].rstrip(".")
    if code in RETRACTION_REASONS:  # the reason of exchange.retract
        return RETRACTION_REASONS[code]
    if code.startswith("corrects:"):  # exchange.correct names the corrected exchange
        return "Correctie van een ingetrokken bericht"
    return "Andere reden"


_ROUTE = re.compile(r"(?P<message>\S+) \((?P<sender>\S+) → (?P<recipient>\S+)\)")


def route(text: str) -> str:
    """A dashboard route (``message_type (sender_type → recipient_type)``, as
    :func:`gateway.monitoring.stats.route_label` writes it) in Dutch."""
    found = _ROUTE.fullmatch(text)
    if found is None:
        return "Andere route"
    return "{}: {} → {}".format(
        name("message_type", found["message"]) if found["message"] != "?" else "onbekend",
        ORGANISATION_TYPES.get(found["sender"], "onbekend"),
        ORGANISATION_TYPES.get(found["recipient"], "onbekend"),
    )
