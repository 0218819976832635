"""the agency competent to decide a dossier, beside the unit that received it

Revision ID: 0010
Revises: 0009

``survey_codes.competent_unit_id`` and ``responses.competent_unit_id``: the agency competent
to decide the dossier when it is not the receiving unit (a Public Administrative Service
Centre receives dossiers the departments decide); ``procedures.competent_unit_id``: the
default for a procedure's codes. Nullable columns added in place (no table rebuild: the
responses table keeps its storage order and its triggers). On SQLite a downgrade empties
the columns and leaves them (dropping a referencing column means rebuilding the table under
its triggers); upgrading again finds them and adds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("procedures", "survey_codes", "responses")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        name = f"fk_{table}_competent_unit_id_units"
        if "competent_unit_id" in {c["name"] for c in inspector.get_columns(table)}:
            continue  # left by a downgrade on SQLite
        if sqlite:  # SQLite adds a column with its reference in place; Alembic would rebuild the table
            op.execute(f"ALTER TABLE {table} ADD COLUMN competent_unit_id INTEGER CONSTRAINT {name} "
                       "REFERENCES units (id)")
        else:
            op.add_column(table, sa.Column("competent_unit_id", sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, "units", ["competent_unit_id"], ["id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(TABLES):
        if sqlite:
            op.execute(f"UPDATE {table} SET competent_unit_id = NULL")
        else:
            op.drop_constraint(f"fk_{table}_competent_unit_id_units", table, type_="foreignkey")
            op.drop_column(table, "competent_unit_id")
