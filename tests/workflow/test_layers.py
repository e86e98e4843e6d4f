"""The engine's packages import one way (workflow/__init__.py, docs/engine.md), and the
engine imports no process, no web and no notifications (DESIGN.md, Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"
#: lowest first; a package may import only those before it
LAYERS = ("base", "store", "calendar", "people", "core", "audit", "views")
TOP = ("cli", "demo", "service", "clock")


def imported(path: Path) -> set[str]:
    """Every module path ``path`` imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def part_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "workflow" or len(parts) < 2:
        return None
    return parts[1]


def test_every_module_of_the_engine_belongs_to_a_layer_or_the_top():
    for path in WORKFLOW.glob("*.py"):
        assert path.stem in TOP + ("__init__",), f"{path.name} belongs in a package"
    packages = {p.name for p in WORKFLOW.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_package_imports_only_the_packages_below_it(layer):
    allowed = set(LAYERS[:LAYERS.index(layer) + 1])
    wrong = {}
    for path in (WORKFLOW / layer).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for module in imported(path):
            part = part_of(module)
            outside = module.split(".")[0] in {"web", "machines", "notifications"}
            if outside or (part in LAYERS + TOP and part not in allowed):
                wrong[path.name] = module
    assert not wrong, f"{layer} imports upwards: {wrong}"


@pytest.mark.parametrize("module", TOP)
def test_the_assembly_modules_name_no_process_and_no_web(module):
    """``gongkai lottery`` and ``gongkai serve`` join the command line from outside
    (entry points, web/cli.py): the engine never imports a machine module or the web."""
    outside = {m for m in imported(WORKFLOW / f"{module}.py")
               if m.split(".")[0] in {"web", "machines", "notifications"}}
    assert not outside
