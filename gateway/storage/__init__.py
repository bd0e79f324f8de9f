"""Storage: SQLAlchemy 2 engine, models and Alembic migrations for SQLite and PostgreSQL."""
