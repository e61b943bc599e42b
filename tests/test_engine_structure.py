"""Structure of engine/dedup and engine/cluster (issue 26): no import cycles, a leaf pair-search kernel, short
functions. Imports are read from the AST, module-level and function-level alike."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "curate"
PACKAGES = ("curate.engine.dedup", "curate.engine.cluster")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every curate module a file imports (``from pkg import sub`` counts ``pkg.sub`` when it is a module)."""
    known = {module_name(p) for p in ROOT.rglob("*.py")}
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("curate")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("curate"):
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            out |= subs or {node.module}
    return out


def graph() -> dict[str, set[str]]:
    files = [p for p in (ROOT / "engine").rglob("*.py")]
    return {module_name(p): imports_of(p) for p in files}


def test_no_import_cycles_in_the_engine():
    g = graph()
    nodes = [m for m in g if m.startswith(PACKAGES) or m.startswith("curate.engine.")]
    # a package's __init__ re-exports its modules: the edges that matter run between modules
    edges = {m: {d for d in g[m] if d in g and d != m and not (d in PACKAGES and m.startswith(d))}
             for m in nodes if m not in PACKAGES}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(edges.get(m, ())):
            if d in PACKAGES:
                continue
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_pair_search_kernel_is_a_leaf():
    assert imports_of(ROOT / "engine" / "dedup" / "kernel.py") == set()


def test_functions_are_short():
    long = []
    for pkg in ("dedup", "cluster"):
        for path in (ROOT / "engine" / pkg).glob("*.py"):
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > 80:
                        long.append(f"{path.name}:{node.name} {n}")
    assert not long, long
