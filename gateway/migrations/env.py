"""Alembic environment: the gateway passes its engine in ``config.attributes['connection']``."""

from alembic import context

from gateway.all_models import load_all_models
from gateway.storage.models import Base

load_all_models()

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
