"""Workbench fixtures: a TestClient over the toy knowledge base (fast page tests), and for the browser tests
the real app under uvicorn on 127.0.0.1 (bundled knowledge base, temporary SQLite registry, demo users)
driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from raredx.server import create_app
from raredx.core import RareDx
from raredx.config import Settings
from raredx.registry import SYSTEM, Registry
from raredx.registry._demo import demo_phenopackets

PASSWORD = "a long test password"
USERS = (("admin", "admin"), ("clinician", "clinician"), ("researcher", "researcher"))
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def add_users(registry: Registry) -> None:
    for name, role in USERS:
        registry.add_user(SYSTEM, name, PASSWORD, role)


@pytest.fixture
def web(tmp_path: Path, toy_kb) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app over the toy knowledge base and an empty SQLite registry, with one user per role."""
    settings = Settings(registry_dir=tmp_path, secret_key="web-test-secret-key-0123456789-abcdefghij")
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.sqlite3'}", ontology=toy_kb.ontology)
    add_users(registry)
    with TestClient(create_app(settings, rdx=RareDx(toy_kb, cache=False), registry=registry)) as client:
        yield client
    registry.close()


def largest_demo_cases(folder: Path, n: int) -> list[str]:
    """Copy the ``n`` shipped demo phenopackets with the most phenotypic features into ``folder`` (made here); their
    ids, the pseudonyms they are imported under."""
    with zipfile.ZipFile(demo_phenopackets()) as zf:
        docs = [(name, json.loads(zf.read(name))) for name in zf.namelist() if name.endswith(".json")]
    docs.sort(key=lambda d: -len(d[1].get("phenotypicFeatures", [])))
    folder.mkdir(parents=True)
    for name, doc in docs[:n]:
        (folder / Path(name).name).write_text(json.dumps(doc), encoding="utf-8")
    return [doc["id"] for _, doc in docs[:n]]


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the CSRF token for later posts."""
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/patients"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(page.text)


# -- the live server for the browser tests -------------------------------------------------------------------
class LiveServer:
    def __init__(self, url: str, registry: Registry, rdx: RareDx | None = None) -> None:
        self.url = url
        self.registry = registry
        self.rdx = rdx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn in a background thread, serving the real app on the bundled knowledge base."""
    import os

    folder = tmp_path_factory.mktemp("web-registry")
    rdx = RareDx.load(cache_dir=os.environ.get("RAREDX_CACHE_DIR") or folder / "cache")
    settings = Settings(registry_dir=folder, secret_key="browser-test-secret-key-0123456789-abcdef")
    registry = Registry.open(settings.url, ontology=rdx.kb.ontology, equivalent_ids=equivalent_ids_of(rdx))
    add_users(registry)
    with serve(settings, rdx, registry) as url:
        yield LiveServer(url, registry, rdx)
    registry.close()


def equivalent_ids_of(rdx: RareDx) -> Callable[[str], tuple[str, ...]]:
    def equivalent_ids(disease_id: str) -> tuple[str, ...]:
        c = rdx.kb.concept(disease_id)
        return tuple(c.ids) if c is not None else (disease_id,)

    return equivalent_ids


@contextmanager
def serve(settings: Settings, rdx: RareDx, registry: Registry) -> Iterator[str]:
    """The app under uvicorn in a background thread on a free port of 127.0.0.1; yields its URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, rdx=rdx, registry=registry), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the workbench server did not start; see the log above")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
