"""derivlib's modules import one another without a cycle, counting imports inside functions,
and the engine never imports the application code built on it (derivlib.playground)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "derivlib"


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module, node):
    """The derivlib modules an import statement of ``module`` names (relative imports resolved)."""
    is_package = MODULES[module].name == "__init__.py"
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = module.split(".")
        if node.level:
            base = base[:len(base) - node.level + (1 if is_package else 0)]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        names = [stem] + [f"{stem}.{a.name}" for a in node.names]
    found = set()
    for name in names:
        while name and name not in MODULES:  # derivlib.engine.rules.RULES -> derivlib.engine.rules
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _graph():
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        graph[module] = set().union(*[_resolve(module, n) for n in ast.walk(tree)
                                      if isinstance(n, (ast.Import, ast.ImportFrom))])
    return graph


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if n.startswith(m + ".") and MODULES[m].name == "__init__.py":
                continue  # a package's __init__ may load its own submodules (lazily, on first use)
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    assert "derivlib.engine.numeric" in _graph()["derivlib.engine.derivation"]


def test_no_import_cycle_in_derivlib():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("derivlib.engine")], ids=str)
def test_the_engine_does_not_import_the_playground(module):
    assert not any(n.startswith("derivlib.playground") for n in _graph()[module])
