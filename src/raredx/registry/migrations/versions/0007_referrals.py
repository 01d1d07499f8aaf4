"""referrals: organisations, a user's organisation, referrals with their status history, consilium, thread and
attachments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:30:00

Remote consultation (docs/referrals.md). New tables only, and one nullable column on ``users``: nothing that is
there is changed. Written by hand.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _of_referral() -> list[Any]:
    return [sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("referral_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id")]


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_users_organisation_id", "organisations", ["organisation_id"], ["id"],
                                    ondelete="SET NULL")
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("referrer", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("patient", sa.JSON(), nullable=False),
        sa.Column("clinical_question", sa.Text(), nullable=False),
        sa.Column("phenotype", sa.JSON(), nullable=False),
        sa.Column("history", sa.Text(), nullable=True),
        sa.Column("tests_done", sa.Text(), nullable=True),
        sa.Column("genetic_results", sa.Text(), nullable=True),
        sa.Column("genetic_findings", sa.JSON(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("differential", sa.JSON(), nullable=True),
        sa.Column("conclusion", sa.JSON(), nullable=True),
        sa.Column("concluded_by", sa.String(length=100), nullable=True),
        _when("submitted_at", True),
        _when("due_at", True),
        _when("concluded_at", True),
        sa.Column("version", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_referrals_status", "referrals", ["status"])
    op.create_index("ix_referrals_referrer", "referrals", ["referrer"])
    op.create_index("ix_referrals_status_due", "referrals", ["status", "due_at"])
    op.create_table(
        "referral_status_changes", *_of_referral(),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        _when("at"),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_table(
        "referral_assignments", *_of_referral(),
        sa.Column("expert", sa.String(length=100), nullable=False),
        _when("assigned_at"),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.UniqueConstraint("referral_id", "expert", name="uq_referral_assignments_referral_id_expert"),
    )
    op.create_index("ix_referral_assignments_expert", "referral_assignments", ["expert"])
    op.create_table(
        "referral_messages", *_of_referral(),
        _when("at"),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "referral_opinions", *_of_referral(),
        sa.Column("expert", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("referral_id", "expert", name="uq_referral_opinions_referral_id_expert"),
    )
    op.create_table(
        "referral_attachments", *_of_referral(),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _when("uploaded_at"),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
    )
    op.create_index("ix_referral_attachments_sha256", "referral_attachments", ["sha256"])
    for table in ("referral_status_changes", "referral_assignments", "referral_messages", "referral_opinions",
                  "referral_attachments"):
        op.create_index(f"ix_{table}_referral_id", table, ["referral_id"])


def downgrade() -> None:
    for table in ("referral_attachments", "referral_opinions", "referral_messages", "referral_assignments",
                  "referral_status_changes"):
        op.drop_table(table)
    op.drop_table("referrals")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_organisation_id", type_="foreignkey")
        batch_op.drop_column("organisation_id")
    op.drop_table("organisations")
