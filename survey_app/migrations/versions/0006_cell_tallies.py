"""cell tallies: each half-month × unit × channel × same-day cell's sufficient statistics,
written by the nightly seal, so a fresh dashboard process analyses from a few thousand
cells instead of reading every response

Revision ID: 0006
Revises: 0005

``cell_tallies`` holds, per questionnaire and cell, the responses counted and the cell's
tallies (analysis/cell_tallies.py: level counts, the criteria's cross-products, answered
counts; compressed int64s in the order of a layout whose fingerprint ``tally_seals`` keeps
with the last day the cells cover). Derived data: the answers stay the source; a cell whose
response count no longer matches the responses is not read, and the next seal rebuilds it.
The tables start empty; ``sipas seal`` (or the server's nightly seal) fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tally_seals",
        sa.Column("questionnaire_id", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("questionnaire_id", name=op.f("pk_tally_seals")),
    )
    op.create_table(
        "cell_tallies",
        sa.Column("questionnaire_id", sa.String(length=64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("same_day", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("tallies", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("questionnaire_id", "starts_on", "unit_id", "channel", "same_day",
                                name=op.f("pk_cell_tallies")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("cell_tallies")
    op.drop_table("tally_seals")
