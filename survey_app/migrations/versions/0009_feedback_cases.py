"""feedback cases and the one-stop system's dossier counts

Revision ID: 0009
Revises: 0008

``feedback_cases``: a comment a citizen marked as a complaint (phản ánh) or a request (kiến
nghị), with its deadline, outcome and the citizen's rating of the handling; no link to the
response. ``dossier_tallies``: dossiers decided and overdue per unit and month, imported
from the one-stop system for the Quyết định 766 item sipas cannot count itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("follow_hash", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("rating", sa.String(length=16), nullable=True),
        sa.Column("rated_on", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('complaint', 'request')", name=op.f("ck_feedback_cases_kind")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_feedback_cases_status")),
        sa.CheckConstraint("rating IS NULL OR rating IN ('satisfied', 'dissatisfied')",
                           name=op.f("ck_feedback_cases_rating")),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"],
                                name=op.f("fk_feedback_cases_procedure_id_procedures")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_feedback_cases_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_cases")),
        sa.UniqueConstraint("follow_hash", name=op.f("uq_feedback_cases_follow_hash")),
        sa.UniqueConstraint("number", name=op.f("uq_feedback_cases_number")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_feedback_cases_unit_received", "feedback_cases", ["unit_id", "received_on"], unique=False)
    op.create_index("ix_feedback_cases_status_due", "feedback_cases", ["status", "due_on"], unique=False)
    op.create_table(
        "dossier_tallies",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_dossier_tallies_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "month", name=op.f("pk_dossier_tallies")),
    )


def downgrade() -> None:
    op.drop_table("dossier_tallies")
    op.drop_index("ix_feedback_cases_status_due", table_name="feedback_cases")
    op.drop_index("ix_feedback_cases_unit_received", table_name="feedback_cases")
    op.drop_table("feedback_cases")
