"""The ``raredx`` subcommands besides ``diagnose``, ``benchmark`` and ``data`` (in :mod:`raredx.cli`): text
extraction (:mod:`.extract`) and the registry service (:mod:`.registry`). Each module's ``register`` adds its
commands to the app; heavy imports (FastAPI, SQLAlchemy) happen inside the commands."""
