"""The REST API (FastAPI): routes -> :class:`raredx.registry.Registry` -> database; diagnosis via :class:`raredx.RareDx`.

>>> from raredx.api import create_app          # doctest: +SKIP
>>> app = create_app()                          # doctest: +SKIP

``create_app`` is imported lazily so that importing ``raredx.api`` stays cheap. The service ``raredx serve``
runs (the API with the workbench) is :func:`raredx.server.create_app`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "install_api"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from raredx.api import _app

        return getattr(_app, name)
    raise AttributeError(name)
