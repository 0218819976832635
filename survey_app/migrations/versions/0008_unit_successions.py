"""unit successions and a province's unit kinds

Revision ID: 0008
Revises: 0007

``unit_successions``: a unit that ceased on a date and the unit that carries on its work
(a merger when several point at one successor, a rename or transfer when one does).
``units.kind`` also takes ``province`` (the provincial People's Committee), ``centre`` (a
Public Administrative Service Centre or a branch) and ``commune`` (a commune or ward), the
two-tier local government since 1 July 2025; widened in place (survey_app/schema_checks.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from survey_app.schema_checks import replace_check

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NARROW = "kind IN ('department', 'section', 'counter')"
WIDE = "kind IN ('province', 'department', 'centre', 'commune', 'section', 'counter')"


def upgrade() -> None:
    op.create_table(
        "unit_successions",
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("predecessor_id <> successor_id", name=op.f("ck_unit_successions_not_itself")),
        sa.ForeignKeyConstraint(["predecessor_id"], ["units.id"],
                                name=op.f("fk_unit_successions_predecessor_id_units")),
        sa.ForeignKeyConstraint(["successor_id"], ["units.id"], name=op.f("fk_unit_successions_successor_id_units")),
        sa.PrimaryKeyConstraint("predecessor_id", name=op.f("pk_unit_successions")),
    )
    op.create_index(op.f("ix_unit_successions_successor_id"), "unit_successions", ["successor_id"], unique=False)
    replace_check("units", "ck_units_kind", NARROW, WIDE)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT 1 FROM units WHERE kind IN ('province', 'centre', 'commune') "
                                     "LIMIT 1")).first():
        raise RuntimeError("units: provinces, centres or communes are stored; downgrading would make them "
                           "invalid. Keep this revision, or change their kind first.")
    replace_check("units", "ck_units_kind", WIDE, NARROW)
    op.drop_index(op.f("ix_unit_successions_successor_id"), table_name="unit_successions")
    op.drop_table("unit_successions")
