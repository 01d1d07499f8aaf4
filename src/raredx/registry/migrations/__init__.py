"""Alembic migrations of the registry schema, shipped inside the package (``raredx.registry:migrations``)."""
