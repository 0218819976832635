"""Alembic environment: run with the connection sipas hands over (sipas init), or with the
URL in the config when Alembic is run by hand (alembic -x ... is not needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from survey_app import models  # noqa: F401  (registers the tables)
from survey_app.extensions import db

target_metadata = db.metadata
config = context.config


def run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        run_with(conn)
