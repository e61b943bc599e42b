"""One check, run by every command before any work: no output may overwrite or delete one of its inputs.

``curate cluster e.parquet --out e.parquet`` or ``sample labels.csv --out labels.csv`` used to replace
their own input with exit 0. :func:`check_io` compares every output with every input after resolving
symbolic links (and hard links, via ``samefile``): an output may not *be* an input, an output folder
(replaced as a whole) may not *contain* an input, and two outputs may not name the same path.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from curate.errors import UsageError

PathLike = str | os.PathLike


def _expand(value: Any) -> list[str]:
    """Paths named by an input value: a path, a glob (its matches), or a list of those; None → []."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [p for v in value for p in _expand(v)]
    if not isinstance(value, (str, os.PathLike)):
        return []  # an in-memory table or dataset: nothing on disk to protect
    s = os.fspath(value)
    if not s:
        return []
    out = [s]
    if any(c in s for c in "*?[") and not os.path.exists(s):
        out += glob.glob(s)
    return out


def _real(p: str) -> str:
    return os.path.realpath(os.path.abspath(p))


def _inside(child: str, folder: str) -> bool:
    try:
        return os.path.commonpath([child, folder]) == folder
    except ValueError:  # different drives (Windows)
        return False


def _same(a: str, b: str) -> bool:
    if _real(a) == _real(b):
        return True
    try:
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def check_io(inputs: Mapping[str, Any], outputs: Mapping[str, PathLike | None], *,
             folders: Iterable[str] = ()) -> None:
    """Refuse (one :class:`UsageError` naming both options) when an output would destroy an input.

    ``inputs``: option name → path, glob or list of paths (None = not given). ``outputs``: option name →
    path (None = not given). ``folders``: the output options that are folders replaced as a whole; no
    input may lie inside them. An input *folder* (e.g. ``--images DIR``) may not lie inside an output
    folder either, and may not be an output file.
    """
    folders = set(folders)
    ins = [(opt, p) for opt, v in inputs.items() for p in _expand(v)]
    outs = [(opt, os.fspath(p)) for opt, p in outputs.items() if p is not None and os.fspath(p)]
    for o_opt, out in outs:
        r_out = _real(out)
        for i_opt, inp in ins:
            if _same(out, inp):
                raise UsageError(f"{o_opt} '{out}' is the input {i_opt} '{inp}': writing it would destroy "
                                 f"the input; choose another {o_opt}")
            if (o_opt in folders or os.path.isdir(out)) and _inside(_real(inp), r_out):
                raise UsageError(f"{o_opt} folder '{out}' contains the input {i_opt} '{inp}': replacing "
                                 f"the folder would delete it; choose another {o_opt}")
    for k, (o_opt, out) in enumerate(outs):
        for o2_opt, out2 in outs[k + 1:]:
            if _same(out, out2):
                raise UsageError(f"{o_opt} and {o2_opt} both name '{out}'; give different paths")
            for a_opt, a, b_opt, b in ((o_opt, out, o2_opt, out2), (o2_opt, out2, o_opt, out)):
                if a_opt in folders and _inside(_real(b), _real(a)):
                    raise UsageError(f"{b_opt} '{b}' is inside the {a_opt} folder '{a}', which is replaced "
                                     f"as a whole; give a path outside it")


def sidecar_of(preds: PathLike) -> Path:
    """``preds.parquet`` → ``preds.probe.json`` (written by ``curate probe``, read by ``curate audit``)."""
    p = os.fspath(preds)
    return Path(os.path.splitext(p)[0] + ".probe.json")
