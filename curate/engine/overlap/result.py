"""The overlap result: the pairs at their strongest tier, and what they add up to.

:class:`OverlapResult` holds raw ids (the pipeline pseudonymises them); its three views count from
``pairs`` only:

- :meth:`OverlapResult.matrix` — dataset × dataset: how many of the column dataset's images (or patients)
  appear in the row dataset, at the given tiers; the diagonal is the dataset's size;
- :meth:`OverlapResult.contamination` — for a (train, eval) pair, per tier, the eval images and patients
  found in train, cumulative over the stronger tiers;
- :meth:`OverlapResult.drop_list` — the eval ids to drop for a clean evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from curate.validation import Options, ParameterError

#: Tier 1..4, strongest first; ``embedding`` pairs are candidates for review, never copies.
TIERS = ("bytes", "pixels", "perceptual", "embedding")
#: The tiers that report copies (the default of the counting views).
COPY_TIERS = TIERS[:3]
PAIR_COLUMNS = ["dataset_a", "id_a", "dataset_b", "id_b", "tier", "score", "verified"]
LEVELS = ("image", "patient")
CONTAMINATION_COLUMNS = ["tier", "images", "new_images", "share", "patients", "patient_share"]


def check_tiers(tiers: Any, name: str = "tiers") -> tuple[str, ...]:
    """``tiers`` as a tuple in strength order; unknown or empty is a :class:`ParameterError`."""
    if isinstance(tiers, str):
        tiers = [t.strip() for t in tiers.split(",")]
    try:
        given = [str(t).strip().lower() for t in tiers]
    except TypeError:
        raise ParameterError(name, f"must be a list of tiers from {', '.join(TIERS)} (got {tiers!r})") \
            from None
    bad = [t for t in given if t not in TIERS]
    if bad or not given:
        shown = ", ".join(given) or "none"
        raise ParameterError(name, f"must be one or more of {', '.join(TIERS)} (got {shown})")
    return tuple(t for t in TIERS if t in given)


def empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({"dataset_a": pd.Series([], dtype=str), "id_a": pd.Series([], dtype=str),
                         "dataset_b": pd.Series([], dtype=str), "id_b": pd.Series([], dtype=str),
                         "tier": pd.Series([], dtype=str), "score": pd.Series([], dtype=float),
                         "verified": pd.Series([], dtype=bool)})


@dataclass
class OverlapResult:
    """Cross-dataset pairs, one row per pair at its strongest tier (see :mod:`curate.engine.overlap`).

    ``patients`` maps each dataset that has patient ids to ``{id: patient}``; ``ids`` lists every dataset's
    ids (after skipping unreadable files), in input order.
    """

    names: list[str]
    sizes: dict[str, int]
    pairs: pd.DataFrame
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    patients: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    ids: dict[str, list[str]] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------------------------- helpers
    def _name(self, param: str, value: str) -> str:
        if value not in self.names:
            shown = ", ".join(self.names)
            raise ParameterError(param, f"must be one of the datasets {shown} (got '{value}')")
        return value

    def _found(self, a: str, b: str, tiers: Sequence[str]) -> pd.DataFrame:
        """Pairs between ``a`` and ``b`` at ``tiers``, oriented as (id in a, id in b, tier)."""
        p = self.pairs[self.pairs["tier"].isin(list(tiers))]
        ab = p[(p["dataset_a"] == a) & (p["dataset_b"] == b)][["id_a", "id_b", "tier"]]
        ba = p[(p["dataset_a"] == b) & (p["dataset_b"] == a)][["id_b", "id_a", "tier"]]
        ba.columns = ["id_a", "id_b", "tier"]
        return pd.concat([ab, ba], ignore_index=True)

    def _patients_of(self, name: str, ids: Any) -> set[str]:
        lookup = self.patients[name]
        return {lookup[i] for i in ids if i in lookup}

    # ----------------------------------------------------------------------------------- views
    def matrix(self, level: str = "image", tiers: Sequence[str] = COPY_TIERS) -> pd.DataFrame:
        """Rows = A, columns = B: how many of B's images (``level="patient"``: B's patients) appear in A at
        one of ``tiers``; the diagonal is the dataset's size. Patient cells exist only where both datasets
        have patient ids (elsewhere missing, ``<NA>``)."""
        level = Options(LEVELS).check("level", level)
        tiers = check_tiers(tiers)
        out = pd.DataFrame(pd.NA, index=pd.Index(self.names, name="A"),
                           columns=pd.Index(self.names, name="B"), dtype="Int64")
        for a in self.names:
            for b in self.names:
                if level == "patient" and (a not in self.patients or b not in self.patients):
                    continue
                if a == b:
                    out.loc[a, b] = (self.sizes[a] if level == "image"
                                     else len(set(self.patients[a].values())))
                    continue
                found = self._found(a, b, tiers)["id_b"].unique()
                out.loc[a, b] = len(found) if level == "image" else len(self._patients_of(b, found))
        return out

    def contamination(self, train: str, eval: str) -> pd.DataFrame:  # noqa: A002 - the contract's name
        """Per tier: eval images found in train at that tier or a stronger one (``images``, ``share`` of the
        eval set), ``new_images`` first found at that tier, and the same for eval patients where eval has
        patient ids (``patients``, ``patient_share``; missing otherwise)."""
        train, eval = self._name("train", train), self._name("eval", eval)
        if train == eval:
            raise ParameterError("eval", f"must differ from train (both '{train}')")
        run = [t for t in TIERS if t in self.params.get("tiers_run", TIERS)]
        found = self._found(train, eval, TIERS)
        rank = {t: k for k, t in enumerate(TIERS)}
        best = found.assign(r=found["tier"].map(rank)).groupby("id_b")["r"].min() if len(found) else \
            pd.Series([], dtype=int)
        rows, seen = [], 0
        n_eval = self.sizes[eval]
        pat = eval in self.patients
        n_pat = len(set(self.patients[eval].values())) if pat else 0
        for t in run:
            ids = best.index[best <= rank[t]]
            row: dict[str, Any] = {"tier": t, "images": len(ids), "new_images": len(ids) - seen,
                                   "share": len(ids) / n_eval if n_eval else np.nan}
            seen = len(ids)
            if pat:
                p = len(self._patients_of(eval, ids))
                row.update(patients=p, patient_share=p / n_pat if n_pat else np.nan)
            else:
                row.update(patients=pd.NA, patient_share=np.nan)
            rows.append(row)
        df = pd.DataFrame(rows, columns=CONTAMINATION_COLUMNS)
        df["patients"] = df["patients"].astype("Int64")
        return df

    def drop_list(self, train: str, eval: str, tiers: Sequence[str] = COPY_TIERS,  # noqa: A002
                  level: str = "image") -> list[str]:
        """Eval ids to drop for a clean evaluation: those found in train at one of ``tiers``; with
        ``level="patient"`` every eval image of a patient with any image found in train."""
        train, eval = self._name("train", train), self._name("eval", eval)
        if train == eval:
            raise ParameterError("eval", f"must differ from train (both '{train}')")
        tiers = check_tiers(tiers)
        level = Options(LEVELS).check("level", level)
        ids = set(self._found(train, eval, tiers)["id_b"])
        if level == "patient":
            if eval not in self.patients:
                raise ParameterError("level", f"'patient' needs patient ids for '{eval}'")
            hit = self._patients_of(eval, ids)
            ids |= {i for i, p in self.patients[eval].items() if p in hit}
        order = {i: k for k, i in enumerate(self.ids.get(eval, []))}
        return sorted(ids, key=lambda i: (order.get(i, len(order)), i))
