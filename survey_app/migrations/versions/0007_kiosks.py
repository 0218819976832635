"""kiosks: counter tablets paired with a unit, and the response channel ``kiosk``

Revision ID: 0007
Revises: 0006

``kiosks`` holds each tablet's unit, name, questionnaire, the hash of its one-time pairing
code (until used or expired), the hash of its device key, and the code a clerk has sent it
and it has not yet shown. ``responses.channel`` also takes ``kiosk``.

The CHECK constraint is widened in place (survey_app/schema_checks.py): every existing row
says single or counter, which the wider constraint allows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from survey_app.schema_checks import replace_check

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NARROW = "channel IN ('single', 'counter')"
WIDE = "channel IN ('single', 'counter', 'kiosk')"


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("pairing_hash", sa.String(length=64), nullable=True),
        sa.Column("pairing_expires_at", sa.DateTime(), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("paired_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("waiting_code_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_kiosks_unit_id_units")),
        sa.ForeignKeyConstraint(["waiting_code_id"], ["survey_codes.id"], ondelete="SET NULL",
                                name=op.f("fk_kiosks_waiting_code_id_survey_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_kiosks_key_hash")),
        sa.UniqueConstraint("pairing_hash", name=op.f("uq_kiosks_pairing_hash")),
    )
    op.create_index(op.f("ix_kiosks_unit_id"), "kiosks", ["unit_id"], unique=False)
    replace_check("responses", "ck_responses_channel", NARROW, WIDE)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT 1 FROM responses WHERE channel = 'kiosk' LIMIT 1")).first():
        raise RuntimeError("responses: kiosk answers are stored; downgrading would make them invalid. "
                           "Keep this revision, or export and remove them first.")
    replace_check("responses", "ck_responses_channel", WIDE, NARROW)
    op.drop_index(op.f("ix_kiosks_unit_id"), table_name="kiosks")
    op.drop_table("kiosks")
