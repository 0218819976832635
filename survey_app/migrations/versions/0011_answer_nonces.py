"""answer nonces: a poster answer delivered twice is stored once

Revision ID: 0011
Revises: 0010

``answer_nonces``: the keyed hash of the one-time value the survey form's script sends with
a poster answer (the same on every delivery of one submission) and the date; no link to the
answer, forgotten after two days.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_nonces",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_answer_nonces")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("answer_nonces")
