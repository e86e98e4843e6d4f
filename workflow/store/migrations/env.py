"""Alembic environment: the schema is workflow.store.models' metadata, the URL comes from
the caller."""

from alembic import context
from sqlmodel import SQLModel

import workflow.store.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
