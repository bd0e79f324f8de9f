"""The Dutch names of the register's own codes, for the page ``/ui/verwerkingsregister``.

Message types, route purposes, payload fields, organisation types and legal-basis types have
their Dutch names in :mod:`gateway.web.vocabulary` (shared; the page uses them). What that
vocabulary lacks is here: the kinds of activity, the gateway's own activities and purposes,
the categories of data subjects, the items the gateway's own processing keeps, the identity
forms, the security measures, the moments a term counts from and the roles. The tests hold
every code the register can answer against these tables, so the page never prints a code.
"""

from __future__ import annotations

from . import ids

KINDS = {
    "route": "Berichten tussen partners",
    "generated_message": "Berichten die de gateway zelf maakt",
    "gateway": "Eigen verwerkingen van de gateway",
}
OWN_ACTIVITIES = {
    ids.SIGNAL_MATCHING: "Koppelen van signalen van organisaties rond hetzelfde kind",
    ids.CONSENT_REGISTRY: "Het toestemmingenregister",
    ids.REIDENTIFICATION: "Herleiden van een pseudoniem op verzoek, na goedkeuring",
    ids.AUDIT_LOG: "De auditlog van elke beslissing en verstrekking",
    ids.SUBJECT_ACCESS: "Inzageverzoeken van ouders",
    ids.SIGN_IN: "Inloggen van medewerkers in de webinterface",
}
PURPOSES = {
    "consent_registration": "Vastleggen, aantonen en intrekken van toestemmingen",
    "reidentification": "Het BSN achter een pseudoniem geven aan een partner met een "
    "wettelijke grondslag, na goedkeuring",
    "accountability": "Verantwoording: elke beslissing en verstrekking aantoonbaar "
    "(onveranderbare auditlog)",
    "subject_access": "Beantwoorden van een inzageverzoek van een ouder (AVG artikel 15)",
    "authentication": "Inloggen van medewerkers",
}
"""Purposes of the gateway's own processing (the route purposes: ``vocabulary.PURPOSES``)."""
DATA_SUBJECTS = {
    "children": "Leerplichtige kinderen (en jongeren tot 23 jaar)",
    "parents": "Ouders, voogden en jongeren die toestemming geven of intrekken",
    "staff": "Medewerkers van de partners en van de beheerorganisatie (contactpersonen, "
    "ingelogde medewerkers)",
}
ITEMS = {
    "signal_category": "soort signaal",
    "organisation": "organisatie",
    "consent_purpose": "doel van de toestemming",
    "consent_parties": "organisaties in de toestemming",
    "grantor_role": "wie toestemming gaf (ouder, voogd, jongere)",
    "evidence_method": "manier van vastleggen",
    "validity": "geldigheid (van, tot)",
    "receipt": "ondertekend ontvangstbewijs",
    "pseudonym": "pseudoniem",
    "request_reason": "reden van het verzoek",
    "decision": "besluit",
    "audit_action": "handeling",
    "staff_identity": "naam en inlognaam van de medewerker",
    "fields_named": "namen van de doorgegeven en weggelaten gegevens",
    "refusal_reason": "reden van een weigering",
    "roles": "rollen",
}
"""What the gateway's own processing keeps (the payload fields: ``vocabulary.FIELDS``)."""
IDENTITIES = {
    "bsn": "Het BSN (alleen waar de wettelijke grondslag het noemt)",
    "pseudonym": "Een pseudoniem (dat van de ontvanger zelf, of het interne van de gateway); "
    "nooit het BSN",
    "none": "Geen gegevens van een kind",
}
SECURITY_MEASURES = {
    "tls": "TLS op elke verbinding; HSTS in productie",
    "oauth_client_authentication": "OAuth 2.0 client credentials met een ondertekende "
    "client assertion (private_key_jwt) of wederzijdse TLS; tokens gebonden aan de client, "
    "bevoegdheden per client",
    "saml_sign_in": "Inloggen met SAML 2.0 single sign-on, rollen van de identity provider, "
    "sessies op de server (30 minuten inactief, hoogstens 8 uur), CSRF-controle op elk "
    "formulier",
    "deny_by_default": "Een route die niet in het routebeleid staat, wordt geweigerd",
    "legal_basis_check": "Bij elk bericht wordt de wettelijke plicht van de route of een "
    "geldige toestemming in het toestemmingenregister gecontroleerd",
    "schema_validation": "Berichten streng gecontroleerd op hun berichtsoort (onbekende "
    "velden geweigerd)",
    "minimisation": "De ontvanger krijgt alleen de gegevens van zijn profiel; een "
    "geboortedatum wordt een geboortejaar waar het profiel dat zegt",
    "pseudonymisation": "De ontvanger krijgt een eigen, vast pseudoniem voor het kind, nooit "
    "het BSN, tenzij de wettelijke grondslag het BSN noemt",
    "polymorphic_pseudonyms": "Polymorfe pseudoniemen: versleuteld voor de ontvanger alleen; "
    "de gateway ziet ze nooit",
    "sealing_at_rest": "Opgeslagen berichten en toestemmingsgegevens versleuteld "
    "(AES-256-GCM, sleutels per doel, gebonden aan hun rij)",
    "signed_receipts": "Elke vastgelegde toestemming heeft een ondertekend ontvangstbewijs",
    "four_eyes_approval": "Een herleiding wordt goedgekeurd door de privacy officer van de "
    "beheerorganisatie, nooit door de organisatie die erom vraagt; het BSN wordt één keer "
    "getoond",
    "tamper_evident_audit": "Elke beslissing staat in een auditlog met hashketen, "
    "Merkle-boom en ondertekende controlepunten",
    "audit_log": "Elke handeling met de gegevens staat in de auditlog",
    "role_based_access": "Pagina's en API naar rol en bevoegdheid; een partner ziet alleen "
    "zijn eigen verkeer",
    "retention_purge": "Gewist als de bewaartermijn om is; de auditlog verliest dan de "
    "verwijzing naar het kind (crypto-shredding)",
    "no_bsn_in_logs": "Geen BSN in een adres (URL), logregel, meetwaarde of auditregel",
    "rate_limiting": "Verzoeken begrensd per client, organisatie en adres",
}
COUNTED_FROM = {
    "send": "na verzending",
    "end": "na het einde van de toestemming",
    "close": "na het sluiten van het signaal",
    "decision": "na het besluit",
    "event": "na de gebeurtenis",
    "session_start": "na het begin van de sessie",
}
LEGAL_BASES = {
    "legal_obligation": "Wettelijke plicht van de verwerkingsverantwoordelijke (AVG art. 6 "
    "lid 1 onder c)",
    "consent": "Toestemming van de ouders (of de jongere), vastgelegd in het "
    "toestemmingenregister van de gateway en bij elk bericht gecontroleerd (AVG art. 6 lid 1 "
    "onder a)",
}
REIDENTIFICATION_BASIS = (
    "De wettelijke plicht die de vragende partner bij elk verzoek noemt; de privacy officer "
    "van de beheerorganisatie toetst die voor de goedkeuring"
)
ESCALATION_BASIS = (
    "De regionale afspraak die de houder doorzettingsmacht geeft, per regio vastgelegd in het "
    "bootstrapbestand (nog geen regio noemt er een)"
)
ROLES = {
    "route": "De verzender voor het verzenden en de ontvanger voor wat hij ontvangt, elk "
    "vanuit de eigen wettelijke taak of de gegeven toestemming. De beheerorganisatie van de "
    "gateway verwerkt in hun opdracht (verwerker, AVG artikel 28).",
    "joint": "De partners van het Thuiszitterspact samen (gezamenlijke "
    "verwerkingsverantwoordelijken, AVG artikel 26), elk voor het eigen verkeer. De "
    "beheerorganisatie van de gateway verwerkt in hun opdracht (verwerker, AVG artikel 28).",
    "sign_in": "Elke organisatie voor de eigen medewerkers. De beheerorganisatie van de "
    "gateway verwerkt in opdracht van de partners (verwerker, AVG artikel 28).",
}
