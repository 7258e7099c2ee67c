"""The layering of docs/design.md, checked on the source (``ast``), not by convention.

core (drift, registry, gates, mlmd and the small TFX-free modules) -> specs + artifact_io
(+ compat_vertex) -> executors -> components -> entry points (cli). No import cycle between our modules; no core module imports
TFX or TensorFlow at module level; no executor imports a component.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

SRC = Path(__file__).resolve().parents[1] / "src" / "tfx_addons_lab"
CORE = (
    "drift",
    "registry",
    "gates",
    "textfmt",
    "errors",
    "mlmd",
    "run_identity",
    "_templates",
    "_tf_env",
    "_lazy",
    "_version",
    "_fileio",
)
#: The TFX side shared by executors and components (layer 2).
SHARED = ("specs", "artifact_io", "compat_vertex")
HEAVY = (
    "tfx",
    "tensorflow",
    "tensorflow_data_validation",
    "tensorflow_model_analysis",
    "apache_beam",
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, top_level_only: bool) -> Set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: Set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph(top_level_only: bool) -> Dict[str, Set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path, top_level_only) if m in modules and m != name}
    return graph


def test_no_import_cycle_even_through_lazy_imports():
    graph = _graph(top_level_only=False)
    state: Dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, node, nxt]))
            if not state.get(nxt):
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [])


def test_core_imports_no_tfx_or_tensorflow_at_module_level():
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        if "." not in name or name.split(".")[1] not in CORE:
            continue
        heavy = {m for m in _imports(path, True) if m.split(".")[0] in HEAVY}
        assert not heavy, f"{name} imports {sorted(heavy)} at module level"


def test_no_executor_imports_a_component_or_an_entry_point():
    for path in (SRC / "executors").glob("*.py"):
        bad = {
            m
            for m in _imports(path, top_level_only=False)
            if m.startswith(("tfx_addons_lab.components", "tfx_addons_lab.cli"))
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_core_and_specs_import_nothing_above_them():
    above = ("tfx_addons_lab.executors", "tfx_addons_lab.components", "tfx_addons_lab.cli")
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        layer = name.split(".")[1] if "." in name else ""
        if layer in CORE or layer in SHARED:
            bad = {m for m in _imports(path, False) if m.startswith(above)}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_executors_stay_thin():
    lines = sum(len(p.read_text().splitlines()) for p in (SRC / "executors").glob("*.py"))
    assert lines < 700, f"executors/ has {lines} lines; move TFX-free logic into the core"


def test_every_module_has_a_layer():
    """A new top-level module must be placed in a layer here (and in docs/design.md)."""
    known = {*CORE, *SHARED, "executors", "components", "cli", "__main__"}
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        if "." in name:
            assert name.split(".")[1] in known, f"{name}: add it to a layer"
