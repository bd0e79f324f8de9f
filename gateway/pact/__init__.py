"""The pact's own workflows (issue 20, docs/pact-workflows.md): the team around the child
(``consultation``), exemption advice (``exemption_advice``) and escalation with
doorzettingsmacht (``escalation``), tied together by one **case** object.

A case is never shared as a value: each participant holds its own random ``case_ref``
(API.md section 13 rule 1), and every "organisation L learned of organisation O" that a case
makes is one ``case.disclose`` audit event (rule 6). Case messages are ordinary exchanges, so
consent, minimisation, pseudonyms, audit, delivery, retraction and withdrawal notices apply
to them unchanged.
"""
