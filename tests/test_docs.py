"""The README's promises: its first two commands, and every CLI command documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command

from raredx.cli import app
from raredx.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line.strip() for line in lines[1:6] if line.startswith("    ")]


def test_readme_starts_with_install_and_test_commands() -> None:
    install, tests = readme_commands()[:2]
    assert "pip install ." in install and "raredx diagnose" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    root = get_command(app)
    names = []
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        names += [f"raredx {name} {s}" for s in sub] if sub else [f"raredx {name}"]
    missing = [n for n in names if not re.search(re.escape(n) + r"\b", readme)]
    assert not missing, f"undocumented commands: {missing}"


def _configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## Configuration"):]


SRC_VARIABLES = sorted({v for p in (ROOT / "src").rglob("*.py") for v in re.findall(r"\bRAREDX_[A-Z_]+\b", p.read_text())})


@pytest.mark.parametrize("name", sorted({*Settings.variables(), *SRC_VARIABLES, "XDG_DATA_HOME", "XDG_CACHE_HOME"}))
def test_every_setting_and_variable_is_documented(name: str) -> None:
    assert re.search(rf"`[^`]*\b{name}\b", _configuration_table()), f"{name} is not in the README's Configuration table"


@pytest.mark.parametrize("name", SRC_VARIABLES)
def test_every_variable_is_a_setting(name: str) -> None:
    """One list of variables: each RAREDX_* the code names is a field of raredx.config.Settings."""
    assert name in Settings.variables(), f"{name} is not a field of raredx.config.Settings"
