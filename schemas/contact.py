"""The contact person an exchange names, so the recipient knows whom to call back.

Only work contact details belong here; the fields are bounded so that a contact cannot be
used to smuggle a case description past the minimisation profiles.
"""

from __future__ import annotations

from schemas.base import StrictSchema
from schemas.fields import Email, Phone, Text


class ContactSchema(StrictSchema):
    """``{"name", "email", "phone"?}`` as in API.md section 3."""

    name = Text(required=True, max_length=100)
    email = Email(required=True)
    phone = Phone()
