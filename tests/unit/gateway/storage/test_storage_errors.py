"""Database errors never carry bound values, so a logged exception cannot leak them."""

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from gateway.storage.database import Database
from gateway.storage.models import Organisation, utcnow


def test_integrity_error_text_holds_no_bound_values(database_url):
    db = Database(database_url)
    row = {"oin": "00000001001234567000", "name": "Secret-Name-111222333", "type": "school",
           "status": "active", "created_at": utcnow(), "updated_at": utcnow()}
    try:
        with db.session() as session:
            session.execute(insert(Organisation), row)
        with pytest.raises(IntegrityError) as caught, db.session() as session:
            session.execute(insert(Organisation), row)
        assert "Secret-Name-111222333" not in str(caught.value)
        assert "hidden due to hide_parameters" in str(caught.value)
    finally:
        db.dispose()
