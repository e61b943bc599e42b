"""A whole, the part of it that is flagged, and the part's breakdown: one disclosure problem.

``curate inspect`` publishes, per check, the rows it checked (the whole), the rows it flagged (the part; the
rows not flagged, ``whole − part``, are a cell too though never printed) and the flagged rows per label class
or per issue. :func:`protect_parts` hides them together with :class:`curate.policy.disclosure.Disclosure`
(small cells ``<11``, complements ``*``), so no hidden count is the difference of published ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curate.policy.disclosure import COMPLEMENT, MIN_CELL, Disclosure


def protect_parts(whole: int, part: int, parts: Mapping[Any, int] | None = None, *, overlapping: bool = False,
                  whole_is_measure: bool = False, k: int = MIN_CELL
                  ) -> tuple[int | str, int | str, dict[Any, int | str]]:
    """``(whole, part, {label: count})`` as they may be shown.

    ``parts`` sum to ``part`` (flagged rows per given label); ``overlapping``: an individual may be in several
    (flagged images per issue: each ≤ part ≤ Σ). ``whole_is_measure``: the whole counts files, not people,
    and is published as it is (the caller prints it; it is never hidden, so the rest is solved around it).
    """
    d = Disclosure(k=k)
    w = d.cell(int(whole), mark="") if whole_is_measure else d.cell(int(whole))
    p = d.cell(int(part))
    rest = d.cell(int(whole) - int(part), publish=False)
    d.equal({w: 1.0, p: -1.0, rest: -1.0}, 0.0)
    cells = {lab: d.cell(int(v)) for lab, v in (parts or {}).items()}
    if cells:
        coefs = {c: 1.0 for c in cells.values()}
        if overlapping:
            d.between({**coefs, p: -1.0}, 0.0, None)
            for c in cells.values():
                d.at_least(p, c)
        else:
            d.equal({**coefs, p: -1.0}, 0.0)
    marks = d.solve()

    def val(c: int, raw: int) -> int | str:
        return marks[c] or (COMPLEMENT if d.withheld else int(raw))

    shown_whole = int(whole) if whole_is_measure else val(w, whole)
    return shown_whole, val(p, part), {lab: val(c, (parts or {})[lab]) for lab, c in cells.items()}
