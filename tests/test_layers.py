"""The import graph flows one way: interfaces (cli, commands, api, web, server) -> use cases (app, reanalysis) -> services
(registry, engine, extract, genomics, io, match, benchmark, core) -> kb -> ontology -> errors/config; no cycle between
packages, and no import between the API and the workbench. Every import counts, also those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "raredx"

LAYERS: dict[str, int] = {
    "errors": 0, "config": 0, "i18n": 0,
    "ontology": 1,
    "kb": 2,
    "genomics": 3, "engine": 3, "extract": 3, "io": 3, "registry": 3, "benchmark": 3, "core": 3, "__init__": 3,
    "match": 3,
    "__main__": 5,
    "app": 4, "reanalysis": 4,
    "cli": 5, "commands": 5, "api": 5, "web": 5, "server": 5,
}
APART = {("api", "web"), ("web", "api")}


def _unit(module: str) -> str:
    """The top-level package or module of ``raredx.X.Y`` (``__init__`` for ``raredx`` itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The raredx modules ``path`` imports (``from raredx import config`` is ``raredx.config``)."""
    here = _module_of(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "raredx")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "raredx":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (SRC.parent / Path(*sub.split("."))).with_suffix(".py").exists() or \
                    (SRC.parent / Path(*sub.split("."))).is_dir()
                out.add(sub if is_module else base)
    return out


def _graph() -> dict[str, set[str]]:
    return {_module_of(p): _imports(p) for p in SRC.rglob("*.py") if "migrations" not in p.parts}


GRAPH = _graph()


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_flow_one_way(module: str) -> None:
    unit = _unit(module)
    assert unit in LAYERS, f"{module}: add its package to LAYERS in tests/test_layers.py"
    wrong = [i for i in sorted(GRAPH[module]) if _unit(i) != unit and
             (LAYERS[_unit(i)] > LAYERS[unit] or (unit, _unit(i)) in APART)]
    assert not wrong, f"{module} (layer {LAYERS[unit]}) imports {wrong}"


def test_no_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for module, imports in GRAPH.items():
        edges.setdefault(_unit(module), set()).update(_unit(i) for i in imports if _unit(i) != _unit(module))
    seen: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(unit: str, path: list[str]) -> None:
        seen[unit] = 1
        for nxt in sorted(edges.get(unit, ())):
            assert seen.get(nxt) != 1, f"import cycle: {' -> '.join([*path, unit, nxt])}"
            if nxt not in seen:
                visit(nxt, [*path, unit])
        seen[unit] = 2

    for unit in sorted(edges):
        if unit not in seen:
            visit(unit, [])
