"""The layers of curate point one way, and no two modules import each other (docs/architecture.md).

The checker walks the AST of every module under ``curate/``: module-level *and* function-level imports,
relative imports resolved against the package, ``importlib.import_module("curate....")`` with a literal
target, and the lazy ``_LAZY = {name: "module:attr"}`` maps (curate/__init__.py's counts as imports made by
the top layer). It fails (a) on any import from a lower layer to a higher one and (b) on any cycle between
modules (a strongly connected component of more than one module). Its own tests plant an upward import and a
cycle in a throw-away package, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Layer of each module: the longest matching dotted prefix wins. Imports may only point to a layer that is
# the same or lower; within one layer, modules may import each other as long as there is no cycle.
FOUNDATION = ["errors", "_io", "_paths", "_signals", "_cache", "_version", "tables", "fmt", "limits",
              "validation", "countries", "groupings", "synthetic", "ages"]
LAYERS: dict[str, int] = {
    **{f"curate.{name}": 0 for name in FOUNDATION},
    "curate.policy": 1,
    "curate.output": 2,
    "curate.catalog": 3,
    "curate.engine": 4,
    "curate.scan": 4,
    "curate.audits": 4,  # computation: metrics, bootstrap, plugins, probes (model cards render in cards/)
    "curate.pipeline": 5,
    "curate.demo": 5,  # writes the synthetic demo folder: orchestration of scan/synthetic + catalog
    "curate.cards": 6,
    "curate.report": 6,
    "curate.geo": 6,
    "curate.publish": 6,
    "curate.cli": 7,
    "curate": 7,  # curate/__init__.py (the lazy public API) and curate/__main__.py
}
LAYER_NAMES = {0: "foundation", 1: "policy", 2: "output", 3: "catalog", 4: "engine", 5: "pipeline",
               6: "renderers", 7: "cli/api"}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved to the longest known module name)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(package_dir: Path) -> dict[str, Path]:
    """Every module of a package: dotted name -> file."""
    root = package_dir.parent
    return {module_name(p, root): p for p in sorted(package_dir.rglob("*.py"))}


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest known module that ``name`` is or lies inside (``curate.a.b.attr`` -> ``curate.a.b``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def _lazy_targets(node: ast.AST) -> list[tuple[str, int]]:
    """``_LAZY = {"name": "module:attr", ...}`` -> [(module, line)]."""
    names = getattr(node, "targets", [getattr(node, "target", None)])
    targets = [t.id for t in names if isinstance(t, ast.Name)]
    value = getattr(node, "value", None)
    if "_LAZY" not in targets or not isinstance(value, ast.Dict):
        return []
    return [(v.value.partition(":")[0], v.lineno) for v in value.values
            if isinstance(v, ast.Constant) and isinstance(v.value, str)]


def imports_of(name: str, path: Path, known: set[str], top: str) -> list[Import]:
    """Every import a module makes, wherever it is written, resolved to known modules of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    raw: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            raw += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from pkg import sub` imports the submodule pkg.sub when it is one, else names from pkg
            raw += [(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base, node.lineno)
                    for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
                raw.append((str(node.args[0].value), node.lineno))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            raw += _lazy_targets(node)
    found = []
    for target, line in raw:
        if target != top and not target.startswith(top + "."):
            continue
        resolved = _resolve(target, known)
        if resolved is not None and resolved != name:
            found.append(Import(name, resolved, line))
    return found


def import_graph(package_dir: Path) -> dict[str, list[Import]]:
    modules = discover(package_dir)
    known = set(modules)
    return {name: imports_of(name, path, known, package_dir.name) for name, path in modules.items()}


def layer_of(module: str, layers: dict[str, int]) -> int:
    best = max((p for p in layers if module == p or module.startswith(p + ".")), key=len, default=None)
    if best is None:
        raise KeyError(f"{module} has no layer: add it to LAYERS in tests/test_architecture.py")
    return layers[best]


def upward_imports(graph: dict[str, list[Import]], layers: dict[str, int]) -> list[str]:
    bad = []
    for imports in graph.values():
        for imp in imports:
            src, dst = layer_of(imp.source, layers), layer_of(imp.target, layers)
            if dst > src:
                bad.append(f"{imp.source}:{imp.line} ({LAYER_NAMES.get(src, src)}) imports {imp.target} "
                           f"({LAYER_NAMES.get(dst, dst)})")
    return bad


def cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    edges = {m: sorted({i.target for i in imps}) for m, imps in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycle_report(component: list[str], graph: dict[str, list[Import]]) -> str:
    members = set(component)
    edges = sorted({f"{i.source}:{i.line} -> {i.target}" for m in component for i in graph[m]
                    if i.target in members})
    return "cycle of " + ", ".join(component) + "\n      " + "\n      ".join(edges)


# ---- the checks on curate ----------------------------------------------------------------------------------

GRAPH = import_graph(ROOT / "curate")


def test_every_module_has_a_layer():
    for module in GRAPH:
        layer_of(module, LAYERS)


def test_imports_point_down():
    bad = upward_imports(GRAPH, LAYERS)
    assert not bad, "imports against the layer order (docs/architecture.md):\n" + "\n".join(bad)


def test_renderers_import_no_computation():
    """Renderers receive computed results (from the pipeline) and compute nothing: no engine/scan/audits."""
    bad = sorted({f"{i.source}:{i.line} imports {i.target}" for imps in GRAPH.values() for i in imps
                  if layer_of(i.source, LAYERS) == 6 and layer_of(i.target, LAYERS) == 4})
    assert not bad, "\n".join(bad)


def test_no_cycles_between_modules():
    found = list(cycles(GRAPH))
    assert not found, "\n".join(cycle_report(c, GRAPH) for c in found)


def test_the_lazy_public_api_is_seen_as_imports_of_the_top_layer():
    targets = {i.target for i in GRAPH["curate"]}
    assert "curate.catalog" in targets and len(targets) > 5
    assert all(layer_of(t, LAYERS) <= LAYERS["curate"] for t in targets)


# ---- the checker catches what it is meant to catch (a planted package) -------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "planted"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return pkg


PLANTED_LAYERS = {"planted": 9, "planted.low": 1, "planted.mid": 2, "planted.high": 3}


def test_checker_catches_an_upward_import_inside_a_function(tmp_path):
    pkg = _plant(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/core.py": "def f():\n    from ..high import view  # upward, in a function\n    return view\n",
        "mid/__init__.py": "from planted.low import core\n",
        "high/__init__.py": "",
        "high/view.py": "import planted.low\n",
    })
    graph = import_graph(pkg)
    bad = upward_imports(graph, PLANTED_LAYERS)
    assert len(bad) == 1 and bad[0].startswith("planted.low.core:2 ") and "planted.high.view" in bad[0]
    assert not cycles(graph)


def test_checker_catches_upward_import_module_and_lazy_map_targets(tmp_path):
    pkg = _plant(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": '_LAZY = {"thing": "planted.high.view:thing"}\n',
        "low/load.py": 'import importlib\n\ndef g():\n    return importlib.import_module("planted.high.view")\n',  # noqa: E501
        "high/__init__.py": "",
        "high/view.py": "thing = 1\n",
    })
    bad = upward_imports(import_graph(pkg), PLANTED_LAYERS)
    assert sorted(b.split(" ")[0] for b in bad) == ["planted.low.load:4", "planted.low:1"]


def test_checker_catches_a_cycle(tmp_path):
    pkg = _plant(tmp_path, {
        "__init__.py": "",
        "mid/__init__.py": "",
        "mid/a.py": "from . import b\n",
        "mid/b.py": "def f():\n    from .c import x\n    return x\n",
        "mid/c.py": "x = 1\n\ndef g():\n    import planted.mid.a\n",
        "mid/d.py": "from planted.mid import a\n",  # imports into the cycle, is not part of it
    })
    graph = import_graph(pkg)
    assert cycles(graph) == [["planted.mid.a", "planted.mid.b", "planted.mid.c"]]
    assert not upward_imports(graph, PLANTED_LAYERS)


def test_checker_on_a_clean_package_finds_nothing(tmp_path):
    pkg = _plant(tmp_path, {
        "__init__.py": "from planted.high import view\n",
        "low/__init__.py": "",
        "mid/__init__.py": "from ..low import *\n",
        "high/__init__.py": "",
        "high/view.py": "from planted import mid\nimport planted.low\n",
    })
    graph = import_graph(pkg)
    assert not upward_imports(graph, PLANTED_LAYERS) and not cycles(graph)
    assert {i.target for i in graph["planted.high.view"]} == {"planted.mid", "planted.low"}


# ---- a thin CLI: each command parses, calls one library function and prints -------------------------------

MAX_COMMAND_BODY = 45  # lines of a Typer command function's body, docstring excluded


def typer_commands():
    """(name, function) of every command of the ``curate`` app, sub-apps included."""
    from curate.cli import app

    def walk(typer_app, prefix=""):
        for c in typer_app.registered_commands:
            yield prefix + (c.name or c.callback.__name__), c.callback
        for g in typer_app.registered_groups:
            yield from walk(g.typer_instance, f"{prefix}{g.name} ")

    return list(walk(app))


def _function_node(fn) -> ast.FunctionDef:
    import inspect

    return ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]


def _body_lines(node: ast.FunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def _private_imports(node: ast.AST) -> list[str]:
    """Names or modules starting with ``_`` imported from curate outside curate.cli."""
    bad = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.ImportFrom) and sub.module and sub.module.split(".")[0] == "curate" \
                and not sub.module.startswith("curate.cli"):
            bad += [sub.module] if any(p.startswith("_") for p in sub.module.split(".")[1:]) else []
            bad += [f"{sub.module}.{a.name}" for a in sub.names if a.name.startswith("_")]
        elif isinstance(sub, ast.Import):
            bad += [a.name for a in sub.names if a.name.startswith("curate.")
                    and not a.name.startswith("curate.cli") and "._" in a.name]
    return bad


def test_cli_commands_are_thin_and_import_nothing_private():
    commands = typer_commands()
    assert len(commands) >= 15
    long = {name: n for name, fn in commands if (n := _body_lines(_function_node(fn))) > MAX_COMMAND_BODY}
    assert not long, f"command bodies over {MAX_COMMAND_BODY} lines (move the work to curate.pipeline): " \
                     f"{long}"
    private = {name: bad for name, fn in commands if (bad := _private_imports(_function_node(fn)))}
    assert not private, f"commands importing private names of other packages: {private}"


def test_thinness_check_catches_a_fat_command_and_a_private_import():
    fat = "def cmd():\n    from curate._io import atomic_dir\n" + "    x = 1\n" * 50
    node = ast.parse(fat).body[0]
    assert _body_lines(node) == 51 and _private_imports(node) == ["curate._io"]
    node = ast.parse("def cmd():\n    from curate.engine.x import _helper\n").body[0]
    assert _private_imports(node) == ["curate.engine.x._helper"]


# ---- reproduce commands name only visible flags ----------------------------------------------------------


def _visible_flags(fn) -> dict[str, set[str]]:
    """Python parameter -> the flags it is set with, for the options not hidden from --help."""
    import inspect

    out = {}
    for name, param in inspect.signature(fn).parameters.items():
        info = param.default
        decls = [d for d in (getattr(info, "param_decls", None) or []) if d.startswith("--")]
        if decls and not getattr(info, "hidden", False):
            out[name] = set(decls)
    return out


def test_reproduce_flags_are_the_apps_visible_options():
    from curate.pipeline.commands import FLAGS

    commands = dict(typer_commands())
    for command, params in FLAGS.items():
        visible = _visible_flags(commands[command])
        for param, flag in params.items():
            assert flag in visible.get(param, set()), f"{command}: {param} -> {flag} is not a visible option"


def test_datasheet_reproduce_commands_use_only_flags_in_help(demo_brset, tmp_path, cli):
    import re
    import shlex

    from curate.cards.build import build_card
    from curate.pipeline.curation import CurationOptions

    built = build_card("BRSET", metadata=demo_brset.labels, embeddings=demo_brset.embeddings,
                       out=tmp_path / "card", curation=CurationOptions(
                           attrs="sex,camera", k="6,2", levels=2, meta_id_col="image_id", split_col="split",
                           patient_col="patient_id", seed=1, device="cpu"))
    text = built.paths["datasheet_md"].read_text(encoding="utf-8")
    lines = sorted(set(re.findall(r"`(curate [^`]+)`", text)))
    ran = {shlex.split(line)[1] for line in lines}
    assert {"dedup", "cluster", "build-card"} <= ran, lines
    helps: dict[str, str] = {}
    for line in lines:
        tokens = shlex.split(line)
        command = tokens[1]
        if command not in helps:
            r = cli(command, "--help")
            assert r.exit_code == 0, r.stderr
            helps[command] = r.stdout
        flags = [t for t in tokens[2:] if t.startswith("-")]
        assert flags or command not in ("dedup", "cluster", "build-card"), line
        for flag in flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", helps[command]), (flag, line)
    for hidden in ("--meta-id-col", "--evaluate", "--metadata"):
        assert hidden not in text


if __name__ == "__main__":  # python tests/test_architecture.py: print the current violations
    for line in upward_imports(GRAPH, LAYERS):
        print("UP  ", line)
    for component in cycles(GRAPH):
        print("CYC ", cycle_report(component, GRAPH))
    sys.exit(0)
