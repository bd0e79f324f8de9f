"""The bare baseline's one table, shared by the baseline app and the benchmark that creates it."""

from sqlalchemy import Column, Integer, MetaData, Table, Text

from gateway.storage.database import make_engine

metadata = MetaData()
bare = Table("bench_bare", metadata, Column("id", Integer, primary_key=True), Column("body", Text))


def create_table(url: str) -> None:
    """Run once before gunicorn starts: two workers creating the table at import would race
    (PostgreSQL refuses the second CREATE TABLE and that worker fails to boot)."""
    engine = make_engine(url)
    metadata.create_all(engine, checkfirst=True)
    engine.dispose()
