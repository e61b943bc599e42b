"""Code a reader can hold in their head: no function in curate/ over 80 lines, no file over 400 lines,
outside the short, exact list below (docs/architecture.md, "Code shape"; issue 26).

A function's length is its lines without its docstring (a long docstring with doctests is welcome). Each
exception names its reason and its current length; the list is exact both ways: a listed function
that shrinks under the limit (or grows past its recorded length) fails too, so the list only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "curate"
MAX_FUNCTION = 80
MAX_FILE = 400

#: "module:function" -> (lines now, why it is still long)
LONG_FUNCTIONS: dict[str, tuple[int, str]] = {
    "demo:make_demo": (168, "writes the demo folder file by file; the exit-gate routing (helper gate2) "
                            "rewrites these write sites, split it after that merge"),
    "cards.croissant:build_croissant": (147, "one JSON-LD document as literal dicts, kept hand-written on "
                                             "purpose (mlcroissant validates it; docs/cards.md); it reads "
                                             "top to bottom in the document's order"),
}
#: "path" -> (lines now, why)
LONG_FILES: dict[str, tuple[int, str]] = {}


def length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of the function, its docstring not counted."""
    n = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
        n -= first.end_lineno - first.lineno + 1
    return n


def _functions() -> dict[str, int]:
    out: dict[str, int] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{module}:{node.name}"
                out[name] = max(out.get(name, 0), length(node))
    return out


def test_no_long_functions_outside_the_list():
    lengths = _functions()
    long = {name: n for name, n in lengths.items() if n > MAX_FUNCTION}
    unlisted = {name: n for name, n in long.items() if name not in LONG_FUNCTIONS}
    assert unlisted == {}, f"split these at their section comments (≤ {MAX_FUNCTION} lines): {unlisted}"
    for name, (recorded, why) in LONG_FUNCTIONS.items():
        assert why.strip(), name
        now = lengths.get(name, 0)
        assert now > MAX_FUNCTION, f"{name} is {now} lines now: take it off LONG_FUNCTIONS"
        assert now <= recorded, f"{name} grew from {recorded} to {now} lines: split it instead"


def test_no_long_files_outside_the_list():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in sorted(ROOT.rglob("*.py"))}
    unlisted = {p: n for p, n in lengths.items() if n > MAX_FILE and p not in LONG_FILES}
    assert unlisted == {}, f"split these modules (≤ {MAX_FILE} lines): {unlisted}"
    for path, (recorded, why) in LONG_FILES.items():
        assert why.strip(), path
        now = lengths.get(path, 0)
        assert now > MAX_FILE, f"{path} is {now} lines now: take it off LONG_FILES"
        assert now <= recorded, f"{path} grew from {recorded} to {now} lines"


def test_the_checker_sees_a_long_function(tmp_path):
    """The measure is real: a planted 81-line function is over the limit, an 80-line one is not."""
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    doc = '    """' + "\n".join(["Docs."] * 30) + '"""\n'
    for extra, over in (("\n    x = 0", True), ("", False)):
        fn = ast.parse(f"def f():\n{doc}{body}{extra}\n").body[0]
        assert (length(fn) > MAX_FUNCTION) is over
