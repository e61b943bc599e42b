"""What ``curate overlap`` runs: read the inputs, validate once, call the engine, gather pseudonymised
results.

The engine (:func:`curate.engine.overlap.find_overlap`) works on raw ids; everything this module hands to
the renderer (:mod:`curate.report.overlap`) is pseudonymised with the publisher's key
(:mod:`curate.policy.pseudonyms`, ``image_<16 hex>`` per dataset label) except the eval ids to drop, which
are the user's own ids of the user's own eval set and leave only as a local file
(:func:`curate.output.write_local`). Counts of patients stay raw here; the renderer protects them at the
exit gate. Inputs are read by :mod:`curate.pipeline.overlap_inputs`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import UsageError
from curate.pipeline.overlap_inputs import (
    LETTERS,
    Source,
    check_inputs,
    parse_assignments,
    read_source,
    resolve_key,
)

#: Strongest first; tiers 1-3 are copies, tier 4 candidates for review (the engine's TIERS).
TIER_ORDER = ("bytes", "pixels", "perceptual", "embedding")
COPY_TIERS = TIER_ORDER[:3]


@dataclass
class OverlapRun:
    """Everything the renderer lays out: pseudonymised pairs, raw matrices (counts protected by the
    renderer at the gate), the contamination of an eval set, the gallery's groups."""

    names: list[str]
    kinds: dict[str, str]
    tiers: list[str]
    sizes: dict[str, int]
    patients: dict[str, int]                          # patients per dataset (raw; only where known)
    pairs: Any                                        # DataFrame, pseudonyms only
    matrices: dict[str, Any]                          # tier label -> DataFrame (rows A, cols B), images
    patient_matrix: Any = None                        # copies (tiers 1-3), patients; None when no patients
    contamination: Any = None                         # DataFrame per tier (cumulative), raw counts
    drop: Any = None                                  # DataFrame: id (raw, local only), pseudonym, tier
    train: str | None = None
    eval: str | None = None
    skipped: list[tuple[str, str, str]] = field(default_factory=list)   # (dataset, pseudonym, reason)
    gallery: list[Any] = field(default_factory=list)                   # GalleryGroup per shown pair
    decisions: dict[str, int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    synthetic: bool = False
    key_created: bool = False
    summary: dict[str, Any] = field(default_factory=dict)   # summary.json as written (set by the renderer)
    result: Any = None                                # the engine's OverlapResult (raw ids; never written)


def parse_tiers(tiers: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"bytes,pixels"`` or a sequence → tiers in strength order (an unknown one is a UsageError); None:
    every tier the inputs allow."""
    if tiers is None:
        return None
    items = [t.strip().lower() for t in (tiers.split(",") if isinstance(tiers, str) else tiers) if t.strip()]
    bad = [t for t in items if t not in TIER_ORDER]
    if bad or not items:
        raise UsageError(f"--tiers: {', '.join(bad) or '(none)'} not among {', '.join(TIER_ORDER)}")
    return tuple(t for t in TIER_ORDER if t in items)


def run_overlap(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    meta: Sequence[str] | Mapping[str, Any] | None = None,
    catalog_ids: Sequence[str] | Mapping[str, str] | None = None,
    meta_id_col: str | None = None,
    patient_col: str | None = None,
    emb_id_col: str = "id",
    vector_col: str | None = None,
    train: str | None = None,
    eval: str | None = None,  # noqa: A002 - the contract's name (--eval)
    tiers: str | Sequence[str] | None = None,
    threshold: float = 0.95,
    max_distance: int | None = None,
    decisions: str | os.PathLike | None = None,
    gallery_size: int = 100,
    seed: int = 0,
    device: str = "auto",
    dask: str | None = None,
    key_file: str | os.PathLike | None = None,
    progress: Any = None,
) -> OverlapRun:
    """Measure which images (and patients) the ``inputs`` share; ``out`` is only checked here."""
    import tempfile

    from curate._paths import check_io
    from curate.limits import check_range
    from curate.policy.pseudonyms import load_key

    paths = [Path(p) for p in inputs]
    metas = parse_assignments(meta, "--meta")
    cids = parse_assignments(catalog_ids, "--id")
    check_io({**{f"input {LETTERS[i]}": p for i, p in enumerate(paths[:len(LETTERS)])},
              **{f"--meta {k}": v for k, v in metas.items()}, "--decisions": decisions},
             {"--out": out}, folders=["--out"])
    names = check_inputs(paths, cids)
    letters = list(LETTERS[:len(paths)])
    metas = {resolve_key(k, letters, names, "--meta"): v for k, v in metas.items()}
    train, eval = _train_eval(train, eval, letters, names)
    chosen = parse_tiers(tiers)
    check_range("gallery_size", gallery_size, 0, 10_000)  # pairs shown in the review page
    check_range("seed", seed)
    key = load_key(key_file)
    key.check_outside(out)
    dec = _read_decisions(decisions)
    with tempfile.TemporaryDirectory(prefix="curate-overlap-") as scratch:
        sources = [read_source(n, p, meta=metas.get(n), meta_id_col=meta_id_col, patient_col=patient_col,
                               emb_id_col=emb_id_col, vector_col=vector_col, scratch=Path(scratch),
                               catalog_id=cids.get(x)) for x, n, p in zip(letters, names, paths)]
        chosen = _usable_tiers(sources, chosen)
        res = _find(sources, chosen, threshold=threshold, max_distance=max_distance, seed=seed, device=device,
                    dask=dask, progress=progress)
        run = _gather(res, sources, chosen, key, dec, train, eval, gallery_size)
    run.key_created = key.created
    return run


def _train_eval(train: str | None, eval: str | None, letters: list[str], names: list[str]):  # noqa: A002
    if (train is None) != (eval is None):
        raise UsageError("--train and --eval go together: the eval set is checked against the train set")
    if train is None:
        return None, None
    t, e = resolve_key(train, letters, names, "--train"), resolve_key(eval, letters, names, "--eval")
    if t == e:
        raise UsageError(f"--train and --eval name the same input '{t}'")
    return t, e


def _read_decisions(path: str | os.PathLike | None) -> Any:
    if path is None:
        return None
    from curate.pipeline.decisions import read_decisions

    return read_decisions(path)


def _usable_tiers(sources: list[Source], asked: tuple[str, ...] | None) -> tuple[str, ...]:
    """The tiers to run: those asked (each needs two inputs that have what it compares), or by default
    every tier two inputs allow (image files for bytes/pixels/perceptual, embeddings for embedding)."""
    files = sum(s.files is not None for s in sources)
    emb = sum(s.embeddings is not None for s in sources)
    able = {t: files >= 2 for t in COPY_TIERS} | {"embedding": emb >= 2}
    if asked is None:
        chosen = tuple(t for t in TIER_ORDER if able[t])
        if not chosen:
            raise UsageError("no two inputs can be compared: tiers bytes/pixels/perceptual need two inputs "
                             "with image files, tier embedding two embeddings tables")
        return chosen
    bad = [t for t in asked if not able[t]]
    if bad:
        need = "embeddings tables" if bad == ["embedding"] else "image files (folders or hub folders)"
        raise UsageError(f"--tiers {','.join(bad)}: fewer than two inputs have {need}")
    return asked


def _find(sources: list[Source], tiers: tuple[str, ...], **kw: Any) -> Any:
    """The engine's search over the inputs (raw ids; the engine validates its parameters)."""
    from curate.engine.overlap import OverlapInput, find_overlap

    inputs = [OverlapInput(name=s.name, files=s.files, ids=s.ids, embeddings=s.embeddings,
                           patients=s.patients) for s in sources]
    if kw.get("max_distance") is None:
        kw.pop("max_distance")
    return find_overlap(inputs, tiers=tiers, skip_bad=True, **kw)


def _pseudo(key: Any, dataset: str, raw: Any) -> str:
    return key.pseudonym(str(raw), kind="image", context=dataset)


def _gather(res: Any, sources: list[Source], tiers: tuple[str, ...], key: Any, dec: Any, train: str | None,
            eval: str | None, gallery_size: int) -> OverlapRun:  # noqa: A002
    """The engine's result, pseudonymised and filtered by the reviewer's decisions, for the renderer."""
    raw = res.pairs.reset_index(drop=True)
    pairs = _pseudo_pairs(raw, key)
    counts = None
    if dec is not None:
        from curate.pipeline.decisions import apply_decisions, matched

        counts = matched(pairs, dec)
        kept = apply_decisions(pairs, dec, a="pseudonym_a", b="pseudonym_b")
        on = ["dataset_a", "pseudonym_a", "dataset_b", "pseudonym_b"]
        mask = pairs.set_index(on).index.isin(kept.set_index(on).index)
        res.pairs = raw[mask].reset_index(drop=True)
        pairs = kept.reset_index(drop=True)
    else:
        pairs["review"] = ""
    copy_tiers = tuple(t for t in COPY_TIERS if t in tiers)
    run = OverlapRun(names=list(res.names), kinds={s.name: s.kind for s in sources}, tiers=list(tiers),
                     sizes={k: int(v) for k, v in res.sizes.items()}, patients={}, pairs=pairs, matrices={},
                     decisions=counts, params=dict(res.params), timings=dict(res.timings), result=res,
                     synthetic=any(s.synthetic for s in sources), train=train, eval=eval)
    for t in tiers:
        run.matrices[t] = res.matrix(level="image", tiers=(t,))
    if len(copy_tiers) > 1:
        run.matrices["copies"] = res.matrix(level="image", tiers=copy_tiers)
    with_patients = [s.name for s in sources if s.patients is not None]
    if len(with_patients) >= 2 and copy_tiers:
        run.patient_matrix = res.matrix(level="patient", tiers=copy_tiers)
    run.patients = {s.name: len(set(s.patients)) for s in sources if s.patients is not None}
    run.skipped = [(d, _pseudo(key, d, i), _clean_reason(reason, i)) for d, i, reason in res.skipped]
    if train is not None:
        run.contamination = res.contamination(train, eval)
        if copy_tiers:
            drop = res.drop_list(train, eval, tiers=copy_tiers)
            run.drop = _drop_table(drop, raw, eval, key)
    if gallery_size:
        run.gallery = _gallery_groups(pairs, sources, gallery_size, key)
    return run


def _pseudo_pairs(raw: Any, key: Any) -> Any:
    import pandas as pd

    return pd.DataFrame({
        "dataset_a": raw["dataset_a"].astype(str),
        "pseudonym_a": [_pseudo(key, d, i) for d, i in zip(raw["dataset_a"], raw["id_a"])],
        "dataset_b": raw["dataset_b"].astype(str),
        "pseudonym_b": [_pseudo(key, d, i) for d, i in zip(raw["dataset_b"], raw["id_b"])],
        "tier": raw["tier"].astype(str),
        "score": raw["score"].astype(float).round(4),
        "verified": raw["verified"].astype(bool),
    })


def _clean_reason(reason: Any, raw_id: str) -> str:
    """A skip reason without the file's id or path (only curate's own words and the error's class)."""
    text = str(reason)
    if raw_id:
        text = text.replace(str(raw_id), "<file>")
    text = re.sub(r"(['\"])(?:[^'\"]*[/\\][^'\"]*)\1", "<path>", text)  # any quoted path
    text = re.sub(r"\S*[/\\]\S*", "<path>", text)
    return text[:200]


def _drop_table(drop: Sequence[str], raw: Any, eval: str, key: Any) -> Any:  # noqa: A002
    """The eval ids to drop (raw: the user's own ids), each with its pseudonym and strongest tier."""
    import pandas as pd

    rank = {t: k for k, t in enumerate(TIER_ORDER)}
    best: dict[str, str] = {}
    for side in ("a", "b"):
        rows = raw[raw[f"dataset_{side}"] == eval]
        for i, t in zip(rows[f"id_{side}"].astype(str), rows["tier"].astype(str)):
            if i not in best or rank.get(t, 9) < rank.get(best[i], 9):
                best[i] = t
    ids = [str(i) for i in drop]
    return pd.DataFrame({"id": ids, "pseudonym": [_pseudo(key, eval, i) for i in ids],
                         "tier": [best.get(i, "") for i in ids]})


def _gallery_groups(pairs: Any, sources: list[Source], top: int, key: Any) -> list[Any]:
    """The ``top`` candidate pairs (strongest tier first, then highest score) with their thumbnails."""
    from curate.pipeline.thumbnails import GalleryGroup, GalleryItem, thumbnail

    files = {(s.name, _pseudo(key, s.name, i)): p for s in sources for i, p in s.paths.items()}
    rank = {t: k for k, t in enumerate(TIER_ORDER)}
    order = sorted(range(len(pairs)), key=lambda r: (rank.get(pairs["tier"].iloc[r], 9),
                                                     -float(pairs["score"].iloc[r]), r))[:top]

    def thumb(dataset: str, label: str) -> Any:
        path = files.get((dataset, label))
        if path is None:
            return None
        try:
            return thumbnail(path)
        except Exception:  # noqa: BLE001 - a file the gallery cannot show gets the "no image" tile
            return None

    groups = []
    for r in order:
        row = pairs.iloc[r]
        items = [GalleryItem(label=row[f"pseudonym_{s}"], dataset=row[f"dataset_{s}"],
                             image=thumb(row[f"dataset_{s}"], row[f"pseudonym_{s}"])) for s in ("a", "b")]
        groups.append(GalleryGroup(key=f"{row['pseudonym_a']}|{row['pseudonym_b']}", items=items,
                                   tier=row["tier"], score=float(row["score"])))
    return groups


def card_overlap(path: str | os.PathLike, dataset_id: str) -> dict[str, Any]:
    """What the card says about ``dataset_id`` from an overlap ``summary.json``: per other dataset, how
    many of its images are found there and how many of the other's are found in it (tiers 1-3), and its
    patients found there (as protected in the summary). The dataset must be an input named by its id."""
    import json

    from curate.errors import InputError

    p = Path(path)
    try:
        s = json.loads(p.read_text(encoding="utf-8"))
        names = [i["dataset"] for i in s["inputs"]]
        images = s["matrix_images"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--overlap: '{p}' is not a summary.json written by curate overlap "
                         f"({exc.__class__.__name__})") from None
    me = next((n for n in names if n.upper() == dataset_id.upper()), None)
    if me is None:
        raise InputError(f"--overlap: '{p}' does not measure {dataset_id} (its inputs: {', '.join(names)}); "
                         f"name the input with `curate overlap ... --id A={dataset_id}`")
    copies = [t for t in s.get("copy_tiers", []) if t in COPY_TIERS]
    level = "copies" if "copies" in images else (copies[0] if copies else None)
    if level is None:
        raise InputError(f"--overlap: '{p}' measured no copy tier (bytes, pixels, perceptual)")
    m = images[level]
    pm = (s.get("matrix_patients") or {}).get("patients")
    rows = []
    for other in names:
        if other == me:
            continue
        rows.append({"dataset": other, "mine_there": m[other][me], "mine": m[me][me],
                     "theirs_here": m[me][other], "theirs": m[other][other],
                     "patients_there": pm[other][me] if pm and pm[other][me] is not None else None})
    return {"dataset": me, "date": s.get("date", ""), "tiers": copies, "rows": rows,
            "pairs": s.get("pairs", 0), "synthetic": bool(s.get("synthetic"))}
