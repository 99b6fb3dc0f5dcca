"""The core's packages keep their layers: a lower package never imports a higher one.

The order is the pipeline's (docs/architecture.md): the vocabulary, the record, settings,
who may see what, the live state, then the parts built on it, the running system and the
web edge last. Packages on the same layer do not import each other. Imports made only for
type checking (``if TYPE_CHECKING:``) are exempt: they do not run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent / "dashboard"

LAYERS: dict[str, int] = {
    "domain": 0,
    "store": 1,
    "settings": 2,
    "access": 3,
    "live": 4,
    "ingest": 5,
    "topology": 5,
    "map": 5,
    "wall": 5,
    "demo": 6,
    "transfer": 6,
    "report": 6,
    "runtime": 7,
    "api": 8,
    "cli": 9,
    "__main__": 10,
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "dashboard" or len(parts) < 2:
        return None
    return parts[1]


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Every ``dashboard.…`` module imported outside ``if TYPE_CHECKING:`` blocks."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "dashboard":
                found.extend(f"dashboard.{alias.name}" for alias in node.names)
            else:
                found.append(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _violations() -> list[str]:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        importer = _part(".".join(rel.with_suffix("").parts))
        if importer not in LAYERS:
            continue
        for imported in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = _part(imported)
            if target is None or target == importer or target == "__init__" or target not in LAYERS:
                continue
            if LAYERS[target] >= LAYERS[importer]:
                problems.append(f"{rel}: {importer} (layer {LAYERS[importer]}) imports {imported} (layer {LAYERS[target]})")
    return problems


def test_every_core_package_has_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(LAYERS), sorted((packages | modules) - set(LAYERS))


def test_every_package_says_what_it_owns() -> None:
    for init in sorted(ROOT.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{init.relative_to(ROOT.parent)} needs a docstring saying what it owns and may import"


def test_no_lower_layer_imports_a_higher_one() -> None:
    assert _violations() == []


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    tree = ast.parse("from dashboard.api.app import build_app\nif TYPE_CHECKING:\n    from dashboard.runtime import Runtime\n")
    assert _runtime_imports(tree) == ["dashboard.api.app"]
