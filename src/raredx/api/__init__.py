"""The REST API (FastAPI): routes -> :class:`raredx.registry.Registry` -> database; diagnosis via :class:`raredx.RareDx`.

>>> from raredx.api import create_app          # doctest: +SKIP
>>> app = create_app()                          # doctest: +SKIP

``create_app`` is imported lazily so that ``raredx.api.cli`` (loaded by every ``raredx`` command) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEMO_BANNER", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from raredx.api import _app

        return getattr(_app, name)
    raise AttributeError(name)
