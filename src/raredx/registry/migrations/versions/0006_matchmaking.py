"""matchmaking: the patients' Matchmaker Exchange consent, and the MME peer nodes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:20:00

``patients.consent_matchmaking``: a nullable flag; existing patients get NULL, which means "not allowed" (only an
explicit True shares a patient with another centre). ``mme_peers``: the nodes this centre matches with, the token
sent to each and the SHA-256 of the token each sends (never the token itself). Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("consent_matchmaking", sa.Boolean(), nullable=True))
    op.create_table(
        "mme_peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("outgoing_token", sa.String(length=500), nullable=False),
        sa.Column("incoming_token_sha256", sa.String(length=64), nullable=False),
        sa.Column("contact_name", sa.String(length=255), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("contact_institution", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("incoming_token_sha256"),
    )


def downgrade() -> None:
    op.drop_table("mme_peers")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("consent_matchmaking")
