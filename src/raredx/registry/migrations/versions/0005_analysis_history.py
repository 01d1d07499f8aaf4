"""analysis history: every differential of a registry patient with the knowledge base that made it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00

One row per differential run on a stored patient (from the workbench, the API or a re-analysis): the knowledge
base's version and fingerprint, raredx's version, who or what ran it, the record version it read, the compact top
of the ranking (disease ids, probabilities, ranks, genes, matched terms), the knowledge base's links of the
patient's variant genes, and what changed materially since the patient's previous analysis. Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("patient_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("triggered_by", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.Column("kb_version", sa.String(length=300), nullable=False),
        sa.Column("kb_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("raredx_version", sa.String(length=40), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("linked_genes", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("n_changes", sa.Integer(), nullable=False),
        sa.Column("compared_with", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    # a patient's history, newest first; the latest analysis of each patient
    op.create_index("ix_analyses_patient_id", "analyses", ["patient_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_analyses_patient_id", table_name="analyses")
    op.drop_table("analyses")
