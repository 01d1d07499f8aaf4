"""notifications (in-app, with their e-mail outbox), a user's e-mail address, a referral's video consultation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 20:30:00

Issue 14's notifications, e-mail and video slot (docs/referrals.md). One new table and nullable columns on
``users`` and ``referrals``: nothing that is there is changed. Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

VIDEO = ("video_at", "video_timezone", "video_url", "video_by")


def upgrade() -> None:
    # plain ALTER TABLE ... ADD COLUMN on both databases (nullable columns: no table is copied)
    op.add_column("users", sa.Column("email", sa.String(length=255), nullable=True))
    op.add_column("referrals", sa.Column("video_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("referrals", sa.Column("video_timezone", sa.String(length=64), nullable=True))
    op.add_column("referrals", sa.Column("video_url", sa.String(length=500), nullable=True))
    op.add_column("referrals", sa.Column("video_by", sa.String(length=100), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.Column("email_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifications_username_read", "notifications", ["username", "read_at", "id"])
    op.create_index("ix_notifications_referral_id", "notifications", ["referral_id"])
    op.create_index("ix_notifications_pending_email", "notifications", ["emailed_at", "id"])


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later have it), not a batch: a batch copies the table, and on
    # SQLite dropping the old ``referrals`` would cascade to its status changes, messages, opinions and attachments
    op.drop_table("notifications")
    for name in reversed(VIDEO):
        op.drop_column("referrals", name)
    op.drop_column("users", "email")
