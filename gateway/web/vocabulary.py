"""The Dutch text of every problem code, in one place.

The API answers a stable ``code`` (:data:`gateway.errors.TABLE`); a person at a browser reads
the text below instead. The web pages, the SAML login pages and the privacy officer's desk
take their texts from here, so a code is explained the same way everywhere.
``tests/unit/gateway/test_problem_table.py`` fails when a code the gateway can answer has no
text: add the text here when you add a code.
"""

from __future__ import annotations

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
    "bsn_required": "Deze ontvanger heeft het BSN van het kind nodig.",
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
