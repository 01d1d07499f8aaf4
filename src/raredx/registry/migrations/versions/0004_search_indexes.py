"""search indexes that hold what a count needs: each filter's column with the patient (or the deletion)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:45:00

Counting a broad search (every patient with a confirmed diagnosis, with a seizure or any of its descendants) then
reads an index alone instead of visiting a row per match. Each replaces the index on the column alone, which is
its first column. Written by hand.
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# (table, old index, old columns, new index, new columns)
CHANGES = (
    ("patients", "ix_patients_region", ["region"], "ix_patients_region_deleted", ["region", "deleted_at"]),
    ("phenotypic_features", "ix_phenotypic_features_hpo_id_patient", ["hpo_id", "patient_id"],
     "ix_phenotypic_features_hpo_observed", ["hpo_id", "excluded", "patient_id"]),
    ("diagnoses", "ix_diagnoses_disease_id", ["disease_id"], "ix_diagnoses_disease_patient", ["disease_id", "patient_id"]),
    ("diagnoses", "ix_diagnoses_status", ["status"], "ix_diagnoses_status_patient", ["status", "patient_id"]),
    ("genetic_findings", "ix_genetic_findings_gene_symbol", ["gene_symbol"], "ix_genetic_findings_gene_patient",
     ["gene_symbol", "patient_id"]),
    ("drug_provisions", "ix_drug_provisions_status", ["status"], "ix_drug_provisions_status_patient",
     ["status", "patient_id"]),
)


def upgrade() -> None:
    for table, old, _, new, columns in CHANGES:
        op.create_index(new, table, columns, unique=False)
        op.drop_index(old, table_name=table)
    # a pseudonym prefix among the patients not deleted: a range of this index
    op.create_index("ix_patients_deleted_pseudonym", "patients", ["deleted_at", "pseudonym"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_patients_deleted_pseudonym", table_name="patients")
    for table, old, old_columns, new, _ in reversed(CHANGES):
        op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
