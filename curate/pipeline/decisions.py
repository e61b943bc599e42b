"""A reviewer's decisions from the review gallery (:mod:`curate.report.gallery`), read back and applied.

The gallery saves ``decisions.csv`` with columns ``a, b, decision``: two keyed pseudonyms and ``copy`` or
``not-copy``. :func:`read_decisions` validates the file once (each problem is one
:class:`~curate.errors.InputError` naming the file); :func:`apply_decisions` drops the pairs a reviewer
marked "not a copy" from a pairs table before groups and keep lists are formed, and marks the rest.
Pseudonyms are matched back to the user's ids by the caller, which recomputes the pseudonyms of the ids it
knows with the same key (:mod:`curate.policy.pseudonyms`); nothing here sees a raw id.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from curate.errors import InputError

#: The values of the ``decision`` column.
DECISIONS = ("copy", "not-copy")
COLUMNS = ("a", "b", "decision")


def _text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"--decisions: '{path}' does not exist or is not a file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--decisions: cannot read '{path}' ({exc.strerror})") from None
    if not raw.strip():
        raise InputError(f"--decisions: '{path}' is empty (save the decisions from the gallery page)")
    if b"\x00" in raw:
        raise InputError(f"--decisions: '{path}' is not a CSV file (binary content)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--decisions: '{path}' is not a CSV file (not UTF-8 text)") from None


def read_decisions(path: str | os.PathLike) -> Any:
    """The reviewer's CSV as a DataFrame with columns ``a, b, decision`` (strings, stripped; one row per
    decided pair, duplicates collapsed). Bad file → one :class:`~curate.errors.InputError`: missing,
    empty, not a CSV, missing columns, an unknown decision, an empty pseudonym, a pair decided both ways."""
    import pandas as pd

    path = Path(path)
    text = _text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, UnicodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"--decisions: '{path}' is not a CSV file ({first})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"--decisions: '{path}' has no column(s) {', '.join(missing)} (expected a CSV with "
                         f"columns {', '.join(COLUMNS)}, as the gallery's 'Save decisions' writes)")
    frame = frame[list(COLUMNS)].apply(lambda s: s.str.strip())
    frame["decision"] = frame["decision"].str.lower()
    bad = sorted(set(frame["decision"]) - set(DECISIONS))
    if bad:
        raise InputError(f"--decisions: '{path}' has unknown decision value(s) "
                         f"{', '.join(repr(v) for v in bad[:5])} (allowed: {', '.join(DECISIONS)})")
    empty = int(((frame["a"] == "") | (frame["b"] == "")).sum())
    if empty:
        raise InputError(f"--decisions: '{path}' has {empty} row(s) with an empty a or b")
    frame = frame.assign(_k=_keys(frame["a"], frame["b"])).drop_duplicates()
    both = frame["_k"].duplicated(keep=False)
    if both.any():
        raise InputError(f"--decisions: '{path}' decides {int(both.sum()) // 2} pair(s) both 'copy' and "
                         "'not-copy'; keep one decision per pair")
    return frame.drop(columns="_k").reset_index(drop=True)


def _keys(a: Any, b: Any) -> list[tuple[str, str]]:
    """An order-free key per pair (the smaller pseudonym first)."""
    return [(x, y) if x <= y else (y, x) for x, y in zip(map(str, a), map(str, b))]


def apply_decisions(pairs: Any, decisions: Any, *, a: str = "pseudonym_a", b: str = "pseudonym_b") -> Any:
    """``pairs`` without the pairs marked ``not-copy`` (matched on the columns ``a`` and ``b``, in either
    order), with a column ``review``: ``copy``, ``not-copy`` (never left: those rows are dropped) or ``""``
    (not decided). Rows keep their order; the index is reset."""
    for col in (a, b):
        if col not in pairs.columns:
            raise InputError(f"apply_decisions: the pairs table has no column '{col}'")
    decided = dict(zip(_keys(decisions["a"], decisions["b"]), decisions["decision"]))
    review = [decided.get(k, "") for k in _keys(pairs[a], pairs[b])]
    out = pairs.assign(review=review)
    return out[out["review"] != "not-copy"].reset_index(drop=True)


def matched(pairs: Any, decisions: Any, *, a: str = "pseudonym_a", b: str = "pseudonym_b") -> dict[str, int]:
    """How many decisions meet a pair of ``pairs``: ``applied`` (of which ``not_copy`` and ``copy``) and
    ``unmatched`` (pairs this run did not find, or pseudonyms made with another key)."""
    have = set(_keys(pairs[a], pairs[b]))
    keys = _keys(decisions["a"], decisions["b"])
    hit = [k in have for k in keys]
    nc = sum(h and d == "not-copy" for h, d in zip(hit, decisions["decision"]))
    return {"decisions": len(keys), "applied": sum(hit), "not_copy": int(nc), "copy": int(sum(hit) - nc),
            "unmatched": len(keys) - sum(hit)}
