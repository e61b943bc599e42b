"""Disclosure control: one table layer for every count, share, rate and summary that leaves the machine.

Rules (stated in every card that uses them):

- a cell counting 1 .. ``MIN_CELL - 1`` (1 .. 10) individuals is a *primary* small cell, shown as ``<11``
  (the CMS / NCHS small-cell convention); zero cells are shown (a zero identifies nobody);
- *complementary* suppression: further cells are hidden (shown as ``*``, any size) until no hidden or
  unpublished small cell can be solved from what is published. "What is published" is every number of the
  output: the table's own cells, its margins, totals printed elsewhere (images, patients), weighted sums
  (images = Σ k·n_k for an images-per-patient table), a published maximum or median, and the cells of
  earlier tables it is linked to. The check is exact: for each small cell, an integer program
  (``scipy.optimize.milp``) finds its smallest and largest value consistent with all of
  that; the cell is protected when the two differ by at least ``MIN_WIDTH`` and, for a cell that is never
  printed (a complement such as "group total − positives"), when its largest value reaches ``MIN_CELL``
  (so the output does not even reveal that it is small). When hiding every cell still leaves one solvable,
  the table is withheld;
- a share, rate or summary derived from a hidden count is hidden with it;
- ages of 90 and above are top-coded to ``90+`` (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MIN_CELL = 11
#: A hidden small cell must keep at least ``MIN_WIDTH + 1`` feasible values (``hi - lo >= MIN_WIDTH``).
MIN_WIDTH = 3
AGE_TOP_CODE = 90
SUPPRESSED = f"<{MIN_CELL}"
#: Marker of a complementary-suppressed cell (hidden only so a ``<11`` cell cannot be recovered; any size).
COMPLEMENT = "*"
#: Footnote for every table that may hold suppressed cells (Markdown).
SUPPRESSION_NOTE = (f"`{SUPPRESSED}`: fewer than {MIN_CELL} individuals; `{COMPLEMENT}`: hidden so that a "
                    f"`{SUPPRESSED}` cell cannot be recovered from the published totals")


@dataclass
class _Rel:
    coefs: dict[int, float]
    lo: float | None  # None = unbounded
    hi: float | None


@dataclass
class Disclosure:
    """One protected publication: cells (in several layers, e.g. images and patients), the linear relations
    between them that are published, and cells of earlier tables whose marks are fixed (``frozen``).

    >>> d = Disclosure()
    >>> cells = [d.cell(v) for v in (185, 14, 1)]          # patients with 2, 3, 4 images
    >>> d.equal({c: 1 for c in cells}, 200)                  # "200 patients"
    >>> d.equal(dict(zip(cells, (2, 3, 4))), 416)            # "416 images"
    >>> d.solve()
    ['*', '*', '<11']
    """

    k: int = MIN_CELL
    min_width: int = MIN_WIDTH
    values: list[float] = field(default_factory=list)
    basis: list[bool] = field(default_factory=list)  # judged for smallness (patients, or images)
    publish: list[bool] = field(default_factory=list)  # False: never printed (a derived complement)
    groups: list[int] = field(default_factory=list)  # cells hidden together (one table cell, two layers)
    frozen: list[bool] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    rels: list[_Rel] = field(default_factory=list)
    withheld: bool = False
    _cache: tuple | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------------------------ building
    def cell(self, value: float, *, basis: bool = True, publish: bool = True, group: int | None = None,
             mark: str | None = None) -> int:
        """Add a cell; ``mark`` given = a cell of an earlier table, already published with that mark."""
        i = len(self.values)
        self.values.append(float(value))
        self.basis.append(basis)
        self.publish.append(publish)
        self.groups.append(i if group is None else self.groups[group])
        self.frozen.append(mark is not None)
        self.marks.append(mark or "")
        return i

    def equal(self, coefs: Mapping[int, float], total: float) -> None:
        """Publish Σ coef·cell = total."""
        self.rels.append(_Rel(dict(coefs), float(total), float(total)))

    def between(self, coefs: Mapping[int, float], lo: float | None, hi: float | None) -> None:
        """Publish lo ≤ Σ coef·cell ≤ hi (either side may be None)."""
        self.rels.append(_Rel(dict(coefs), lo, hi))

    def at_least(self, big: int, small: int) -> None:
        """Publish cell ``big`` ≥ cell ``small`` (images of a group ≥ its patients)."""
        self.between({big: 1.0, small: -1.0}, 0.0, None)

    def include(self, other: Disclosure) -> int:
        """Add an earlier table's cells (frozen, with their published marks) and relations; its offset."""
        off = len(self.values)
        for i in range(len(other.values)):
            self.values.append(other.values[i])
            self.basis.append(other.basis[i])
            self.publish.append(other.publish[i])
            self.groups.append(off + other.groups[i])
            self.frozen.append(True)
            self.marks.append(other.marks[i])
        self.rels.extend(_Rel({off + j: c for j, c in r.coefs.items()}, r.lo, r.hi) for r in other.rels)
        return off

    # ------------------------------------------------------------------------------------ policy
    def _primary(self, i: int) -> bool:
        return self.basis[i] and 0 < self.values[i] < self.k

    def _hidden(self, i: int) -> bool:
        return bool(self.marks[i]) or not self.publish[i]

    def _bounds(self, i: int) -> tuple[float, float | None]:
        if self.marks[i] == f"<{self.k}" and self.basis[i]:
            return 1.0, float(self.k - 1)
        return 0.0, None

    def _system(self):
        """The integer program over the hidden cells (cached until a mark or relation changes)."""
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint

        key = (tuple(self.marks), len(self.rels), len(self.values))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        hid = [j for j in range(len(self.values)) if self._hidden(j)]
        pos = {j: n for n, j in enumerate(hid)}
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for r in self.rels:
            row = np.zeros(len(hid))
            const = 0.0
            for j, c in r.coefs.items():
                if j in pos:
                    row[pos[j]] += c
                else:
                    const += c * self.values[j]
            if not row.any():
                continue
            if r.lo is not None and r.hi is not None and r.lo == r.hi:
                a_eq.append(row), b_eq.append(r.lo - const)
                continue
            if r.hi is not None:
                a_ub.append(row), b_ub.append(r.hi - const)
            if r.lo is not None:
                a_ub.append(-row), b_ub.append(const - r.lo)
        cap = 2.0 * sum(abs(v) for v in self.values) + 1000.0  # "unbounded" (no cell exceeds the totals)
        lb = np.array([self._bounds(j)[0] for j in hid])
        ub = np.array([cap if self._bounds(j)[1] is None else self._bounds(j)[1] for j in hid])
        lp = (np.array(a_ub) if a_ub else None, np.array(b_ub) if b_ub else None,
              np.array(a_eq) if a_eq else None, np.array(b_eq) if b_eq else None, list(zip(lb, ub)))
        cons = []
        if a_eq:
            cons.append(LinearConstraint(np.array(a_eq), np.array(b_eq), np.array(b_eq)))
        if a_ub:
            cons.append(LinearConstraint(np.array(a_ub), -np.inf, np.array(b_ub)))
        system = (pos, lp, cons, Bounds(lb, ub), cap)
        self._cache = (key, system)
        return system

    def _optimum(self, i: int, sign: float) -> float:
        """min (sign=1) or max (sign=-1) of cell ``i`` over the integer points of the published system.

        The LP relaxation first: when its optimal vertex is integral it is the integer optimum (the tables'
        margin constraints are nearly always totally unimodular). Otherwise ``milp``; when it stops early
        its incumbent is a feasible point, so the range can only come out narrower (more suppression).
        """
        import numpy as np
        from scipy.optimize import linprog, milp

        pos, (a_ub, b_ub, a_eq, b_eq, bounds), cons, bnds, cap = self._system()
        c = np.zeros(len(pos))
        c[pos[i]] = sign
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
        if res.status == 0 and np.allclose(res.x, np.round(res.x), atol=1e-7):
            return sign * res.fun
        # milp, not linprog(integrality=...): HiGHS presolve via linprog wrongly reports some of these
        # small integer programs infeasible
        res = milp(c, constraints=cons, bounds=bnds, integrality=np.ones(len(pos)),
                   options={"time_limit": 2.0})
        if res.x is None:  # cannot happen for true data; be safe and treat the cell as pinned
            return self.values[i]
        return sign * float(c @ np.round(res.x))

    def feasible_range(self, i: int) -> tuple[float, float]:
        """Smallest and largest integer value of cell ``i`` given everything published (inf when open)."""
        if not self._hidden(i):
            return self.values[i], self.values[i]
        cap = self._system()[-1]
        lo, hi = self._optimum(i, 1.0), self._optimum(i, -1.0)
        if hi >= cap - 0.5:
            hi = math.inf
        return math.ceil(lo - 1e-6), (math.floor(hi + 1e-6) if math.isfinite(hi) else math.inf)

    def _protected_cells(self) -> list[int]:
        """Hidden cells that must not be solvable: every layer of a group with a small basis cell."""
        small_groups = {self.groups[i] for i in range(len(self.values)) if self._primary(i)}
        return [i for i in range(len(self.values)) if self.groups[i] in small_groups and self._hidden(i)]

    def _is_protected(self, i: int) -> bool:
        lo, hi = self.feasible_range(i)
        marked_small = self.marks[i] == f"<{self.k}"
        return not (hi - lo < self.min_width or (not marked_small and self._primary(i) and hi < self.k))

    def unprotected(self, skip: set[int] | None = None) -> list[int]:
        """Small cells (hidden or never printed) that the published numbers pin down too closely.

        ``skip``: cells known to pass (hiding more cells only widens feasible ranges, so they still pass).
        """
        bad = []
        for i in self._protected_cells():
            if skip is not None and i in skip:
                continue
            if self._is_protected(i):
                if skip is not None:
                    skip.add(i)
            else:
                bad.append(i)
        return bad

    def _candidate(self, i: int) -> int | None:
        """The shown cell to hide next for ``i``: from the relation with fewest hidden cells, smallest."""
        best = None
        for r in self.rels:
            if i not in r.coefs:
                continue
            n_hidden = sum(self._hidden(j) for j in r.coefs)
            for j in r.coefs:
                if self._hidden(j) or self.frozen[j] or not self.publish[j]:
                    continue
                v = self.values[j]
                key = (n_hidden, v == 0, v, j)
                if best is None or key < best[0]:
                    best = (key, j)
        return None if best is None else best[1]

    def _hide(self, i: int, mark: str) -> None:
        for j in range(len(self.values)):
            if self.groups[j] == self.groups[i] and not self.frozen[j] and not self.marks[j]:
                self.marks[j] = mark

    def solve(self) -> list[str]:
        """Marks for every cell: ``""`` shown, ``<k`` primary small cell, ``*`` complement.

        Sets ``withheld`` when even hiding every cell leaves a small cell solvable (print nothing then).
        """
        small = f"<{self.k}"
        for i in range(len(self.values)):
            if self._primary(i) and not self.frozen[i]:
                self._hide(i, small)
        passed: set[int] = set()
        for _ in range(4 * len(self.values) + 4):
            bad = self.unprotected(passed)
            if not bad:
                self._reveal_pinned()
                return list(self.marks)
            progress = False
            changed: set[int] = set()  # groups hidden this round: re-audit before hiding more near them
            for i in bad:
                near = {self.groups[j] for r in self.rels if i in r.coefs for j in r.coefs}
                if near & changed:
                    continue
                j = self._candidate(i)
                if j is not None and not self._hidden(j):
                    self._hide(j, COMPLEMENT)
                    changed.add(self.groups[j])
                    progress = True
            if not progress:  # no single cell helps: hide every cell sharing a relation with a solvable one
                near = {j for r in self.rels if any(i in r.coefs for i in bad) for j in r.coefs}
                for j in near:
                    if not self._hidden(j) and not self.frozen[j]:
                        self._hide(j, COMPLEMENT)
                        progress = True
            if not progress:
                break
        for j in range(len(self.values)):  # last resort before withholding: hide every cell
            if not self._hidden(j) and not self.frozen[j]:
                self._hide(j, COMPLEMENT)
        self.withheld = bool(self.unprotected(passed))
        if not self.withheld:
            self._reveal_pinned()
        return list(self.marks)

    def _reveal_pinned(self) -> None:
        """Show complements that the published numbers determine anyway (hiding them protects nothing)."""
        small_groups = {self.groups[i] for i in range(len(self.values)) if self._primary(i)}
        for i in range(len(self.values)):
            g = self.groups[i]
            if self.marks[i] != COMPLEMENT or self.frozen[i] or g in small_groups:
                continue
            members = [j for j in range(len(self.values)) if self.groups[j] == g]
            if all(self.publish[j] and len(set(self.feasible_range(j))) == 1 for j in members):
                for j in members:
                    self.marks[j] = ""


# ------------------------------------------------------------------------------------------- plain tables
def protect_table(counts, *, k: int = MIN_CELL, totals: bool = True) -> tuple[list, bool]:
    """Marks for a 1-D or 2-D count table whose row, column and grand totals are published.

    Returns (marks shaped like ``counts`` as nested lists, withheld).
    """
    import numpy as np

    c = np.asarray(counts, dtype=float)
    two = c.ndim == 2
    c2 = c if two else c[None, :]
    d = Disclosure(k=k)
    idx = np.array([[d.cell(v) for v in row] for row in c2], dtype=int).reshape(c2.shape)
    if totals and c2.size:
        for r in range(c2.shape[0]):
            d.equal({int(j): 1 for j in idx[r]}, c2[r].sum())
        if two:
            for col in range(c2.shape[1]):
                d.equal({int(j): 1 for j in idx[:, col]}, c2[:, col].sum())
    marks = d.solve()
    out = np.array([marks[int(j)] for j in idx.ravel()], dtype=object).reshape(c2.shape)
    return (out if two else out[0]), d.withheld


def suppression_marks(counts, k: int = MIN_CELL):
    """Per-cell display marks (numpy object array shaped like ``counts``).

    ``""`` = show the count, ``"<k"`` = primary small cell (1 .. k-1 individuals), ``COMPLEMENT`` = a cell
    hidden only so that no small cell can be solved from the row, column and grand totals (any size).
    """
    return protect_table(counts, k=k)[0]


def suppress(counts: pd.Series | pd.DataFrame, k: int = MIN_CELL) -> pd.Series | pd.DataFrame:
    """Return a display copy (object dtype): small cells as ``<k``, their complements as ``*``.

    A complement is hidden only to protect a small cell and may hold any count (``X`` below holds 12), so it
    gets its own marker rather than a ``<k`` that would be false.

    >>> import pandas as pd
    >>> suppress(pd.Series({"F": 40, "M": 5, "X": 12})).tolist()
    [40, '<11', '*']
    """
    import pandas as pd

    marks = suppression_marks(counts.to_numpy(), k)
    out = counts.astype(object).copy()
    if isinstance(counts, pd.Series):
        for i in range(len(out)):
            if marks[i]:
                out.iloc[i] = marks[i]
        return out
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            if marks[i, j]:
                out.iloc[i, j] = marks[i, j]
    return out


def suppressed_total(total: int, k: int = MIN_CELL) -> int | str:
    """A total is itself a cell: hide it when it counts fewer than ``k`` individuals."""
    return f"<{k}" if 0 < total < k else total


def is_hidden(value: object) -> bool:
    """True for a display value that is a suppression marker (``<11`` or ``*``)."""
    return isinstance(value, str) and value in (SUPPRESSED, COMPLEMENT)


def hidden_json(value: object) -> object:
    """A count for results files: the integer, or ``{"suppressed": true, "shown": "<11"}``-style marker."""
    return {"value": None, "suppressed": True, "shown": value} if is_hidden(value) else value


def top_code_ages(ages: pd.Series, cap: int = AGE_TOP_CODE) -> pd.Series:
    """Numeric ages with everything ≥ ``cap`` set to ``cap`` (to be displayed as ``90+``)."""
    return ages.where(ages.isna() | (ages < cap), cap)


def age_bands(ages: pd.Series, width: int = 10, cap: int = AGE_TOP_CODE) -> pd.Series:
    """Ordered categorical bands ``0-9, 10-19, ..., 80-89, 90+`` (ages ≥ cap are top-coded)."""
    import numpy as np
    import pandas as pd

    edges = list(range(0, cap, width)) + [cap, np.inf]
    labels = [f"{lo}-{min(lo + width, cap) - 1}" for lo in edges[:-2]] + [f"{cap}+"]
    return pd.cut(ages, bins=edges, right=False, labels=labels)


def share_of_hidden(values: Sequence[float], shown_counts: Sequence[object]) -> list[object]:
    """Shares (or any rate) derived from counts: hidden wherever the count is hidden."""
    return [None if is_hidden(c) else v for v, c in zip(values, shown_counts)]
