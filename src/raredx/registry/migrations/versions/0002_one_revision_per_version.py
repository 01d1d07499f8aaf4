"""one revision per version: a unique constraint on patient_revisions (patient_id, version)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10 00:00:00

Before it, two updates of the same version could both be saved (the version was compared in Python) and leave two
revisions with one number. Such revisions are kept, and renumbered in the order they were written (version, then
id); the patient's version becomes that of its last revision, so the next write follows on.
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
NAME = "uq_patient_revisions_patient_id_version"


def upgrade() -> None:
    _renumber_duplicates()
    with op.batch_alter_table("patient_revisions", schema=None) as batch_op:
        batch_op.create_unique_constraint(NAME, ["patient_id", "version"])


def _renumber_duplicates() -> None:
    conn = op.get_bind()
    revs = sa.table("patient_revisions", sa.column("id"), sa.column("patient_id"), sa.column("version"))
    patients = sa.table("patients", sa.column("id"), sa.column("version"))
    twice = sorted(set(conn.scalars(sa.select(revs.c.patient_id).group_by(revs.c.patient_id, revs.c.version)
                                    .having(sa.func.count() > 1))))
    for pid in twice:
        ids = list(conn.scalars(sa.select(revs.c.id).where(revs.c.patient_id == pid).order_by(revs.c.version, revs.c.id)))
        for n, rid in enumerate(ids, 1):
            conn.execute(sa.update(revs).where(revs.c.id == rid).values(version=n))
        current = conn.scalar(sa.select(patients.c.version).where(patients.c.id == pid)) or 0
        conn.execute(sa.update(patients).where(patients.c.id == pid).values(version=max(current, len(ids))))
    if twice:
        log.warning("renumbered the revisions of %d patient(s) that had two revisions of one version (updates that "
                    "raced before this migration); every revision is kept", len(twice))


def downgrade() -> None:
    with op.batch_alter_table("patient_revisions", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="unique")
