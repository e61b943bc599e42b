"""The curation engine run behind ``build-card --embeddings``: dedup, leakage, clusters, once.

``curate build-card ID --meta FILE --embeddings EMB`` asks this module for the engine's findings and
passes them to the card renderer (:mod:`curate.cards.curation`), which only prints them:

- duplicates: :func:`curate.engine.dedup.dedup` (pairs with cosine similarity >= threshold, one image kept
  per group; identical embeddings are told apart from near duplicates by the engine's own cosine values);
- leakage: :func:`curate.engine.leakage.leakage` (duplicate pairs crossing splits, patients in several
  splits; patient counts below 11 shown as ``<11`` by the disclosure layer);
- cluster structure: :func:`curate.engine.cluster.cluster` (FAISS k-means, hierarchical with ``levels``
  > 1, Vo et al. 2024 §3) and :func:`curate.engine.cluster.evaluate` (NMI / ARI / AMI per attribute with the
  engine's plain-words verdict on AMI);
- a balanced sample or splits drawn by ``curate sample`` (per-split counts of the file given).

``Findings.view`` holds every number the Curation section prints, already counted (identical vs near
pairs, shares, best levels), so the template has nothing left to compute. No identifier value is kept in
it: only counts, scores and the file names the user passed.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError
from curate.pipeline.commands import command_line
from curate.pipeline.curation_view import (  # noqa: F401 - IDENTICAL_COSINE re-exported for the card
    IDENTICAL_COSINE,
    curation_view,
    sample_counts,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.engine.cluster import ClusterResult
    from curate.engine.dedup import DedupResult
    from curate.engine.leakage import LeakageResult
    from curate.pipeline.composition import Composition

#: Metadata roles evaluated as cluster proxies when ``attrs`` is not given.
DEFAULT_ATTR_ROLES: tuple[str, ...] = ("sex", "age", "race", "ethnicity", "nationality", "device", "site")



@dataclass
class CurationOptions:
    """How the engine is run for the card (every field is echoed in the card's commands).

    ``meta_id_col`` / ``split_col`` / ``patient_col`` default to the metadata columns whose roles were found
    (``--column image=...`` etc.); ``k`` defaults to ``round(sqrt(n / 2))`` clipped to [2, 100];
    ``attrs`` (column names or roles such as ``sex``) default to the demographic, device and site columns.
    """

    threshold: float = 0.95
    method: str = "auto"
    k: int | str | None = None
    levels: int = 1
    attrs: Sequence[str] | str | None = None
    split_col: str | None = None
    patient_col: str | None = None
    meta_id_col: str | None = None
    emb_id_col: str = "id"
    sample: str | os.PathLike | None = None
    seed: int = 0
    device: str = "auto"


@dataclass
class Findings:
    """What the engine returned, the numbers the section prints (``view``) and the inputs it used."""

    dedup: DedupResult
    leakage: LeakageResult | None
    clusters: ClusterResult
    evaluation: dict[str, Any] | None
    sample: dict[str, Any] | None
    inputs: list[dict[str, str]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- helpers
#: The curation options' defaults, by Python parameter, with the build-card flag that sets each.
_CURATION_FLAGS = {"split_col": ("--split-col", None), "patient_col": ("--patient-col", None),
                   "meta_id_col": ("--id-col", None), "k": ("--k", None), "attrs": ("--attr", None),
                   "sample": ("--sample", None), "threshold": ("--threshold", 0.95),
                   "method": ("--method", "auto"), "levels": ("--levels", 1), "seed": ("--seed", 0),
                   "emb_id_col": ("--emb-id-col", "id")}


def curation_options(embeddings: Any, **given: Any) -> CurationOptions | None:
    """The :class:`CurationOptions` of a build-card run with ``embeddings``; without embeddings, None, and
    any option set away from its default is a usage error (it would be silently ignored)."""
    if embeddings is None:
        flags = [flag for p, (flag, default) in _CURATION_FLAGS.items() if given.get(p, default) != default]
        if flags:
            raise UsageError(f"{', '.join(flags)} set the Curation section: give the embeddings with "
                             "--embeddings EMB")
        return None
    return CurationOptions(**given)


def shown_path(path: str | os.PathLike) -> str:
    """A path as the user gave it if relative; absolute paths are cut to the file name (no home dirs)."""
    p = Path(path)
    return p.name if p.is_absolute() else str(path)


def embeddings_sha256(source: str | os.PathLike) -> str:
    """sha256 of an embeddings file; for a folder or glob of shards, sha256 over the shards' digests."""
    from curate._io import sha256_file

    p = Path(source)
    if p.is_file():
        return sha256_file(p)
    from curate.engine.embeddings import list_shards

    h = hashlib.sha256()
    for s in sorted(list_shards(source), key=lambda s: s.path):
        sp = Path(s.path)
        digest = sha256_file(sp) if sp.is_file() else hashlib.sha256(s.path.encode()).hexdigest()
        h.update(f"{sp.name}:{digest}\n".encode())
    return h.hexdigest()


def default_k(n: int) -> int:
    """``round(sqrt(n / 2))`` clipped to [2, 100] and to ``n``: a few dozen points per cluster."""
    return int(max(1, min(n, max(2, min(100, round(math.sqrt(n / 2)))))))


def _resolve_attrs(attrs: Sequence[str] | str | None, meta: pd.DataFrame,
                   roles: dict[str, list[str]], skip: set[str]) -> list[str]:
    """Column names for ``attrs`` (a column, or a role such as ``sex`` → ``patient_sex``)."""
    from curate.policy.roles import resolve_columns

    if attrs is None:
        return [roles[r][0] for r in DEFAULT_ATTR_ROLES if r in roles and roles[r][0] not in skip]
    items = [a.strip() for a in (attrs.split(",") if isinstance(attrs, str) else attrs) if str(a).strip()]
    if not items:
        raise UsageError("--attr needs at least one column name")
    out = []
    for a, col in zip(items, resolve_columns(meta, items, roles=roles)):
        if col not in meta.columns:
            raise InputError(f"--attr '{a}' is neither a metadata column nor a column role found in it "
                             f"(columns: {', '.join(map(str, meta.columns))})")
        if col not in out:
            out.append(col)
    return out


def _check_options(opts: CurationOptions) -> tuple[float, str, list[int] | None]:
    from curate.engine.cluster import level_sizes
    from curate.engine.dedup import check_method, check_threshold
    from curate.limits import check_range

    t = check_threshold(opts.threshold)
    method = check_method(opts.method)
    ks = level_sizes(opts.k, opts.levels) if opts.k is not None else None
    check_range("levels", opts.levels)
    return t, method, ks


# ------------------------------------------------------------------------------------------- engine run

@dataclass
class _Inputs:
    """The checked inputs of one curation run."""

    meta: pd.DataFrame
    meta_name: str
    id_col: str
    split_col: str | None
    patient_col: str | None
    attrs: list[str]
    embeddings: Any  # curate.engine.embeddings.Embeddings
    ks: list[int]
    sample_path: Path | None
    sample_df: pd.DataFrame | None


def _check_inputs(metadata: str | os.PathLike | pd.DataFrame, embeddings: str | os.PathLike,
                  opts: CurationOptions, ks: list[int] | None, *, composition: Composition | None,
                  metadata_name: str | None) -> _Inputs:
    """Every input checked before the engine starts (see :func:`run_curation`)."""
    import pandas as pd

    from curate.engine.cluster import check_attrs, level_sizes
    from curate.engine.embeddings import load_embeddings
    from curate.engine.leakage import align_metadata
    from curate.pipeline.composition import infer_roles
    from curate.tables import read_table

    if isinstance(metadata, pd.DataFrame):
        meta = metadata.copy()
        meta_name = metadata_name or "metadata"
    else:
        meta = read_table(metadata)
        meta_name = metadata_name or shown_path(metadata)
    roles = composition.roles if composition is not None else infer_roles(meta)

    def role(name: str) -> str | None:
        return roles[name][0] if roles.get(name) else None

    id_col = opts.meta_id_col or role("image") or ("id" if "id" in meta.columns else None)
    if id_col is None:
        raise UsageError("no image id column found in the metadata: pass --id-col COL "
                         "(or --column image=COL)")
    split_col = opts.split_col or role("split")
    patient_col = opts.patient_col or role("patient")
    for col, flag in ((id_col, "--id-col"), (split_col, "--split-col"), (patient_col, "--patient-col")):
        if col is not None and col not in meta.columns:
            raise InputError(f"{flag} '{col}' is not a metadata column "
                             f"(columns: {', '.join(map(str, meta.columns))})")
    emb_path = Path(embeddings)
    if not emb_path.exists() and not any(ch in str(embeddings) for ch in "*?["):
        raise InputError(f"embeddings '{embeddings}' do not exist")
    sample_path = Path(opts.sample) if opts.sample is not None else None
    if sample_path is not None and not sample_path.is_file():
        raise InputError(f"sample file '{opts.sample}' does not exist")
    skip = {c for c in (id_col, split_col, patient_col) if c}
    attrs = _resolve_attrs(opts.attrs, meta, roles, skip)
    if attrs:
        check_attrs(meta, attrs, patient_col=patient_col)
    e = load_embeddings(embeddings, id_col=opts.emb_id_col)
    # every embedding id needs exactly one metadata row (also checks split / patient values are present)
    align_metadata(meta, e.ids, meta_id_col=id_col, split_col=split_col, patient_col=patient_col)
    if ks is None:
        ks = level_sizes(default_k(e.n), opts.levels)
    if ks[0] > e.n:
        raise InputError(f"--k {ks[0]} is larger than the number of embeddings ({e.n})")
    sample_df = _read_sample(sample_path, id_col) if sample_path is not None else None
    return _Inputs(meta=meta, meta_name=meta_name, id_col=id_col, split_col=split_col,
                   patient_col=patient_col, attrs=attrs, embeddings=e, ks=ks, sample_path=sample_path,
                   sample_df=sample_df)


def _provenance(embeddings: str | os.PathLike, sample_path: Path | None,
                samp: dict[str, Any] | None) -> list[dict[str, str]]:
    """The input files by role, name and sha256 (the sample's also noted in its counts)."""
    inputs = [{"role": "embeddings", "name": Path(str(embeddings)).name or shown_path(embeddings),
               "sha256": embeddings_sha256(embeddings)}]
    if sample_path is not None:
        from curate._io import sha256_file

        inputs.append({"role": "sample", "name": sample_path.name, "sha256": sha256_file(sample_path)})
        samp.update(name=shown_path(sample_path), sha256=inputs[-1]["sha256"])
    return inputs


def _commands(ins: _Inputs, opts: CurationOptions, *, emb_shown: str, threshold: float, method: str,
              dataset_id: str) -> dict[str, str]:
    """The reproduce command lines of the run (dedup, cluster, build-card)."""
    ks, attrs, id_col, split_col, patient_col = ins.ks, ins.attrs, ins.id_col, ins.split_col, ins.patient_col
    meta_name, sample_path = ins.meta_name, ins.sample_path
    k_text = ",".join(map(str, ks))
    emb_id = opts.emb_id_col if opts.emb_id_col != "id" else None
    return {
        "dedup": command_line("dedup", emb_shown, threshold=f"{threshold:g}", method=method,
                              seed=opts.seed or None, emb_id_col=emb_id,
                              meta=meta_name if split_col else None,
                              meta_id_col=id_col if split_col else None, split_col=split_col,
                              patient_col=patient_col if split_col else None, out="dedup/"),
        "cluster": command_line("cluster", emb_shown, k=k_text, levels=len(ks) if len(ks) > 1 else None,
                                seed=opts.seed, emb_id_col=emb_id, meta=meta_name if attrs else None,
                                attr=",".join(attrs) if attrs else None,
                                meta_id_col=id_col if attrs else None,
                                out="clusters.parquet"),
        "card": command_line("build-card", dataset_id, metadata=meta_name, embeddings=emb_shown,
                             meta_id_col=id_col if opts.meta_id_col else None, emb_id_col=emb_id,
                             split_col=split_col if opts.split_col else None,
                             patient_col=patient_col if opts.patient_col else None,
                             threshold=f"{threshold:g}", method=method if method != "auto" else None,
                             k=k_text, levels=len(ks) if len(ks) > 1 else None,
                             attr=",".join(attrs) if attrs and opts.attrs is not None else None,
                             sample=shown_path(sample_path) if sample_path is not None else None,
                             seed=opts.seed or None, out=f"{dataset_id}-card/"),
    }


def run_curation(
    metadata: str | os.PathLike | pd.DataFrame,
    embeddings: str | os.PathLike,
    options: CurationOptions | None = None,
    *,
    composition: Composition | None = None,
    metadata_name: str | None = None,
    dataset_id: str = "ID",
) -> Findings:
    """Run dedup, leakage, clustering (+ proxy evaluation) on ``embeddings`` once and return the findings.

    Every input is checked before the engine starts: the options, the metadata columns, the embeddings
    file, that every embedding id has one metadata row, the attribute columns and the sample file.
    ``composition`` (from :func:`curate.pipeline.composition.measure_composition`) supplies the column roles.
    """
    from curate.engine.cluster import cluster, evaluate, summarize
    from curate.engine.dedup import dedup
    from curate.engine.leakage import leakage
    from curate.output import protect_leakage

    opts = options or CurationOptions()
    threshold, method, ks = _check_options(opts)
    ins = _check_inputs(metadata, embeddings, opts, ks, composition=composition, metadata_name=metadata_name)
    e, meta, id_col = ins.embeddings, ins.meta, ins.id_col
    split_col, patient_col = ins.split_col, ins.patient_col

    # ---- the engine, once
    dd = dedup(e, threshold, method, opts.device, seed=opts.seed)
    leak = None
    if split_col is not None:
        leak = leakage(dd.pairs, meta, e.ids, meta_id_col=id_col, split_col=split_col,
                       patient_col=patient_col)
    cl = cluster(e, k=ins.ks, seed=opts.seed, device=opts.device)
    ev = evaluate(cl, meta, ins.attrs, meta_id_col=id_col) if ins.attrs else None
    sizes = summarize(cl, public=True)[1]
    samp = sample_counts(ins.sample_df, split_col="split", patient_col=patient_col, id_col=id_col,
                         pairs=dd.pairs) if ins.sample_df is not None else None

    # ---- provenance, commands and the section's view
    emb_shown = shown_path(embeddings)
    inputs = _provenance(embeddings, ins.sample_path, samp)
    parameters = {"threshold": threshold, "method": method, "k": ins.ks, "seed": opts.seed,
                  "meta_id_col": id_col, "emb_id_col": opts.emb_id_col, "split_col": split_col,
                  "patient_col": patient_col, "attrs": ins.attrs}
    commands = _commands(ins, opts, emb_shown=emb_shown, threshold=threshold, method=method,
                         dataset_id=dataset_id)
    view = curation_view(n=e.n, d=e.d, emb_name=emb_shown, meta_name=ins.meta_name, id_col=id_col,
                         dedup_summary=dd.summary, dedup_pairs=dd.pairs,
                         leak=protect_leakage(leak.summary) if leak is not None else None,
                         split_col=split_col, patient_col=patient_col, ks=ins.ks, sizes=sizes,
                         evaluation=ev, sample=samp, commands=commands)
    return Findings(dedup=dd, leakage=leak, clusters=cl, evaluation=ev, sample=samp, inputs=inputs,
                    parameters=parameters, commands=commands, view=view)


def _read_sample(path: Path, id_col: str) -> pd.DataFrame:
    from curate.tables import read_table

    df = read_table(path)
    if "split" not in df.columns:
        raise InputError(f"sample file '{path.name}' has no 'split' column (write it with `curate sample`)")
    if len(df) == 0:
        raise InputError(f"sample file '{path.name}' has no rows")
    return df
