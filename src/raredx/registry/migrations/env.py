"""Alembic environment: runs on the connection the registry hands over (see ``raredx.registry._db.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from raredx.registry._models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # plain `alembic` command line (e.g. autogenerate for a new revision)
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("no sqlalchemy.url in the Alembic configuration; give one, or run raredx registry migrate.")
        engine = create_engine(url)
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
