"""API fixtures: the app over the toy knowledge base and a registry on SQLite and on PostgreSQL
(``database_url`` comes from tests/registry/conftest.py), with one user per role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from registry.conftest import (  # noqa: F401 - fixtures shared with tests/registry
    ROLES,
    _cheap_password_hashes,
    _sqlite_template,
    database_url,
    registry,
)

from raredx.api import create_app
from raredx.core import RareDx
from raredx.config import Settings
from raredx.registry import SYSTEM, Registry

PASSWORD = "a long test password"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(registry_dir=tmp_path, secret_key="test-secret-key-of-sufficient-length-0123456789", max_upload_mb=1)


@pytest.fixture
def client(registry: Registry, toy_kb, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]  # noqa: F811
    for role in ROLES:
        registry.add_user(SYSTEM, role, PASSWORD, role)
    app = create_app(settings, rdx=RareDx(toy_kb, cache=False), registry=registry)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth(client: TestClient) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, str] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in tokens:
            r = client.post("/api/auth/token", data={"username": role, "password": PASSWORD})
            assert r.status_code == 200, r.text
            tokens[role] = r.json()["access_token"]
        return {"Authorization": f"Bearer {tokens[role]}"}

    return headers
