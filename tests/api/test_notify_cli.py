"""The CLI's e-mail address of a user: ``raredx user add ... --email`` and ``raredx user email NAME ADDRESS``."""

from __future__ import annotations

from pathlib import Path

from api.test_registry_cli import cli
from raredx.registry import SYSTEM, Registry


def test_user_email_commands(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    r = cli(["user", "add", "vera", "--role", "expert", "--email", "vera at centre", "--password-stdin"], env,
            "a long password\n")
    assert r.returncode == 2 and "email: 'vera at centre' is not an e-mail address" in r.stderr
    r = cli(["user", "add", "vera", "--role", "expert", "--email", "vera@centre.example", "--password-stdin"], env,
            "a long password\n")
    assert r.returncode == 0, r.stderr
    r = cli(["user", "email", "vera", "v.petrova@centre.example"], env)
    assert r.returncode == 0 and "e-mailed to v.petrova@centre.example" in r.stdout
    reg = Registry.open(f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite3'}")
    assert reg.get_user(SYSTEM, "vera").email == "v.petrova@centre.example"
    reg.close()
    r = cli(["user", "email", "vera", ""], env)
    assert r.returncode == 0 and "no e-mail address" in r.stdout
    assert cli(["user", "email", "nobody", "a@b.example"], env).returncode == 4
