"""Fixtures of the extraction tests: the recogniser over the real HPO release and the shipped Russian lexicon.

Imported by each test module (``from extract_fixtures import ...``) rather than kept in a conftest.py:
the top-level tests import names from ``conftest``, and a second conftest module would shadow it.

The compiled lexicon is cached in ``RAREDX_CACHE_DIR`` when the environment sets it (so repeated runs are
fast), else in a session temporary directory. The top-level conftest points ``RAREDX_CACHE_DIR`` at a
temporary directory during the session, so the value is read here, at import, before that happens.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raredx.extract import Extractor

_ENV_CACHE = os.environ.get("RAREDX_CACHE_DIR")


@pytest.fixture(scope="session")
def extract_cache(tmp_path_factory) -> Path:
    return Path(_ENV_CACHE) if _ENV_CACHE else tmp_path_factory.mktemp("extract-cache")


@pytest.fixture(scope="session")
def extractor(extract_cache) -> Extractor:
    from raredx.kb import bundled_data_dir

    return Extractor.load(bundled_data_dir(), cache_dir=extract_cache)


@pytest.fixture(scope="session")
def ids(extractor):
    """``ids(text, **kw)`` -> {(id, excluded)} of the patient's terms."""

    def run(text: str, **kw) -> set[tuple[str, bool]]:
        return {(t.id, t.excluded) for t in extractor.extract(text, **kw)}

    return run
