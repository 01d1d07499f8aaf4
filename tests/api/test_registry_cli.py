"""The registry commands of the CLI: user add, registry import/export/migrate, demo; serve answering over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from registry.conftest import PHENOPACKETS, REPO
from registry.test_registry_service import head_revision

from raredx.registry._db import head_revision


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "raredx", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_user_add_import_export_demo(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    r = cli(["user", "add", "alice", "--role", "clinician", "--password-stdin"], env, "a long password\n")
    assert r.returncode == 0 and "alice" in r.stdout, r.stderr
    r = cli(["user", "add", "bob", "--role", "wizard", "--password-stdin"], env, "a long password\n")
    assert r.returncode == 2 and "unknown role" in r.stderr
    r = cli(["user", "list"], env)
    assert "alice\tclinician\tactive" in r.stdout
    r = cli(["registry", "import", str(PHENOPACKETS), "--policy", "strict"], env)
    assert r.returncode == 0 and "rejected" in r.stdout, r.stderr
    r = cli(["registry", "export", str(tmp_path / "out")], env)
    assert r.returncode == 0 and len(list((tmp_path / "out").glob("*.json"))) >= 4
    assert cli(["registry", "migrate"], env).stdout.startswith(f"schema at revision {head_revision()}")
    r = cli(["demo", str(PHENOPACKETS), "--patients", "3", "--registry-dir", str(tmp_path / "demo")], env)
    assert r.returncode == 0 and "DEMO users" in r.stdout and "raredx serve --demo" in r.stdout, r.stderr


def test_registry_report_writes_the_case_report_pdf(cli_env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", exc_type=ImportError)
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    assert cli(["registry", "import", str(PHENOPACKETS)], env).returncode == 0
    out = tmp_path / "case-1.pdf"
    r = cli(["registry", "report", "1", "--out", str(out), "--lang", "ru"], env)
    assert r.returncode == 0 and "written to" in r.stdout, r.stderr
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_mode & 0o777 == 0o600  # patient data: owner only
    r = cli(["registry", "report", "99", "--out", str(tmp_path / "none.pdf")], env)
    assert r.returncode == 4 and "no patient with id 99" in r.stderr and not (tmp_path / "none.pdf").exists()


def test_demo_works_after_install_with_the_shipped_cases(cli_env: dict[str, str], tmp_path: Path) -> None:
    """No phenopackets given, run away from the checkout: the 300 cases that ship with raredx are used."""
    r = subprocess.run([sys.executable, "-m", "raredx", "demo", "--patients", "4", "--registry-dir", "d"], cwd=tmp_path,
                       env=cli_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "demo registry: 4 synthetic patients imported from" in r.stdout and "demo-phenopackets.zip" in r.stdout


def test_serve_answers_over_http(cli_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    proc = subprocess.Popen([sys.executable, "-m", "raredx", "serve", "--demo", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
                    health = json.load(resp)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the service did not start")
        assert health["status"] == "ok" and health["database"] == "sqlite"
        assert (tmp_path / "reg" / "registry.sqlite3").exists() and (tmp_path / "reg" / "token-key").exists()
        assert oct(os.stat(tmp_path / "reg" / "token-key").st_mode & 0o777) == "0o600"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "no demo users in" in err and "raredx demo --registry-dir" in err  # demo mode over a registry without them


def test_user_management_commands(cli_env: dict[str, str], tmp_path: Path) -> None:
    import pytest

    from raredx.registry import Registry
    from raredx.registry.errors import AuthenticationError

    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    r = cli(["user", "add", "ann", "--role", "clinician", "--password-stdin"], env, "password2024\n")
    assert r.returncode == 2 and "commonly used" in r.stderr and "passphrase" in r.stderr
    assert cli(["user", "add", "ann", "--role", "clinician", "--password-stdin"], env, "a long password\n").returncode == 0
    reg = Registry.open(f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite3'}")
    for n in range(5):  # the fifth wrong password locks signing in
        with pytest.raises(AuthenticationError):
            reg.sign_in("ann", f"guess {n}")
    reg.close()
    assert "ann\tclinician\tactive\tlocked until" in cli(["user", "list"], env).stdout
    assert "may sign in again" in cli(["user", "unlock", "ann"], env).stdout
    assert "is now researcher" in cli(["user", "role", "ann", "researcher"], env).stdout
    assert "disabled" in cli(["user", "disable", "ann"], env).stdout
    assert "ann\tresearcher\tdisabled" in cli(["user", "list"], env).stdout
    assert "enabled" in cli(["user", "enable", "ann"], env).stdout
    r = cli(["user", "password", "ann", "--password-stdin"], env, "ann12345678\n")
    assert r.returncode == 2 and "user name" in r.stderr
    assert "changed" in cli(["user", "password", "ann", "--password-stdin"], env, "another long one\n").stdout
    r = cli(["user", "delete", "nobody", "--yes"], env)
    assert r.returncode == 4 and "no user 'nobody'" in r.stderr
    assert "deleted" in cli(["user", "delete", "ann", "--yes"], env).stdout
    assert cli(["user", "list"], env).stdout == ""


def test_serve_with_several_workers_shares_the_token_key(cli_env: dict[str, str], tmp_path: Path) -> None:
    """Two worker processes: the key, the schema and the caches are made once, before them, so a token issued by
    one worker is good at the other, and every request is answered."""
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    assert cli(["user", "add", "alice", "--role", "clinician", "--password-stdin"], env, "a long password\n").returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "raredx", "serve", "--port", str(port), "--workers", "2"], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the service did not start")
        statuses = []
        for _ in range(12):  # a new connection each: the two workers take turns accepting them
            form = urllib.parse.urlencode({"username": "alice", "password": "a long password"}).encode()
            token = json.load(urllib.request.urlopen(base + "/api/auth/token", data=form, timeout=10))["access_token"]
            for _ in range(2):
                req = urllib.request.Request(base + "/api/auth/me", headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    statuses.append(resp.status)
        assert statuses == [200] * 24
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert err.count("Application startup complete") == 2, err
