"""Engine findings → the "Curation" section of the datasheet and the hub card.

``curate build-card ID --meta FILE --embeddings EMB`` runs the curation engine once on the dataset's
embeddings and reports what it found, each finding with the command that reproduces it:

- duplicates: :func:`curate.engine.dedup.dedup` (pairs with cosine similarity >= threshold, one image kept
  per group; identical embeddings are told apart from near duplicates by the engine's own cosine values);
- leakage: :func:`curate.engine.leakage.leakage` (duplicate pairs crossing splits, patients in several
  splits; patient counts below 11 shown as ``<11`` by the engine);
- cluster structure: :func:`curate.engine.cluster.cluster` (FAISS k-means, hierarchical with ``levels``
  > 1, Vo et al. 2024 §3) and :func:`curate.engine.cluster.evaluate` (NMI / ARI / AMI per attribute with the
  engine's plain-words verdict on AMI);
- a balanced sample or splits drawn by ``curate sample`` (per-split counts of the file given).

This module only formats what the engine returns — it never recomputes a finding — and it never writes an
identifier value: only counts, scores and the file names the user passed.
"""

from __future__ import annotations

import hashlib
import math
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError
from curate.privacy import SUPPRESSION_NOTE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.cards.composition import Composition
    from curate.cards.context import Section
    from curate.engine.cluster import ClusterResult
    from curate.engine.dedup import DedupResult
    from curate.engine.leakage import LeakageResult

#: Cosine similarity from which a duplicate pair counts as *identical* embeddings (float32 rounding).
IDENTICAL_COSINE = 0.9999
#: Metadata roles evaluated as cluster proxies when ``attrs`` is not given.
DEFAULT_ATTR_ROLES: tuple[str, ...] = ("sex", "age", "race", "ethnicity", "nationality", "device", "site")
TITLE = "Curation"


@dataclass
class CurationOptions:
    """How the engine is run for the card (every field is echoed in the card's commands).

    ``id_col`` / ``split_col`` / ``patient_col`` default to the metadata columns whose roles were found
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
    id_col: str | None = None
    emb_id_col: str = "id"
    sample: str | os.PathLike | None = None
    seed: int = 0
    device: str = "auto"


@dataclass
class Curation:
    """What the engine returned, the Section rendered from it, and the provenance inputs it used."""

    section: Section
    dedup: DedupResult
    leakage: LeakageResult | None
    clusters: ClusterResult
    evaluation: dict[str, Any] | None
    sample: dict[str, Any] | None
    inputs: list[dict[str, str]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- helpers
def _shown(path: str | os.PathLike) -> str:
    """A path as the user gave it if relative; absolute paths are cut to the file name (no home dirs)."""
    p = Path(path)
    return p.name if p.is_absolute() else str(path)


def _cmd(*parts: Any) -> str:
    return " ".join(shlex.quote(str(p)) for p in parts if p is not None and p != "")


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
    from curate.engine.dedup import METHODS, check_threshold

    t = check_threshold(opts.threshold)
    method = (opts.method or "auto").lower()
    if method not in METHODS:
        raise UsageError(f"--method must be one of {', '.join(METHODS)}, got '{opts.method}'")
    ks = level_sizes(opts.k, opts.levels) if opts.k is not None else None
    if opts.k is None and opts.levels < 1:
        raise UsageError(f"--levels must be at least 1 (got {opts.levels})")
    return t, method, ks


# ------------------------------------------------------------------------------------------- engine run
def run_curation(
    metadata: str | os.PathLike | pd.DataFrame,
    embeddings: str | os.PathLike,
    options: CurationOptions | None = None,
    *,
    composition: Composition | None = None,
    metadata_name: str | None = None,
    dataset_id: str = "ID",
) -> Curation:
    """Run dedup, leakage, clustering (+ proxy evaluation) on ``embeddings`` and return the Curation section.

    Every input is checked before the engine starts: the options, the metadata columns, the embeddings
    file, that every embedding id has one metadata row, the attribute columns and the sample file.
    ``composition`` (from :func:`curate.cards.composition.measure_composition`) supplies the column roles.
    """
    import pandas as pd

    from curate.cards.composition import infer_roles, read_metadata
    from curate.engine.cluster import check_attrs, cluster, evaluate, level_sizes, summarize
    from curate.engine.dedup import dedup
    from curate.engine.embeddings import load_embeddings
    from curate.engine.leakage import align_metadata, leakage

    opts = options or CurationOptions()
    threshold, method, ks = _check_options(opts)
    if isinstance(metadata, pd.DataFrame):
        meta = metadata.copy()
        meta_name = metadata_name or "metadata"
    else:
        meta = read_metadata(metadata)
        meta_name = metadata_name or _shown(metadata)
    roles = composition.roles if composition is not None else infer_roles(meta)

    def role(name: str) -> str | None:
        return roles[name][0] if roles.get(name) else None

    id_col = opts.id_col or role("image") or ("id" if "id" in meta.columns else None)
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
    align_metadata(meta, e.ids, id_col=id_col, split_col=split_col, patient_col=patient_col)
    if ks is None:
        ks = level_sizes(default_k(e.n), opts.levels)
    if ks[0] > e.n:
        raise InputError(f"--k {ks[0]} is larger than the number of embeddings ({e.n})")
    sample_df = _read_sample(sample_path, id_col) if sample_path is not None else None

    # ---- the engine, once
    dd = dedup(e, threshold, method, opts.device, seed=opts.seed)
    leak = None
    if split_col is not None:
        leak = leakage(dd.pairs, meta, e.ids, id_col=id_col, split_col=split_col, patient_col=patient_col)
    cl = cluster(e, k=ks, seed=opts.seed, device=opts.device)
    ev = evaluate(cl, meta, attrs, id_col=id_col) if attrs else None
    sizes = summarize(cl, public=True)[1]
    samp = _sample_counts(sample_df, split_col="split", patient_col=patient_col, id_col=id_col,
                          pairs=dd.pairs) if sample_df is not None else None

    # ---- provenance and commands
    emb_shown = _shown(embeddings)
    inputs = [{"role": "embeddings", "name": Path(str(embeddings)).name or emb_shown,
               "sha256": embeddings_sha256(embeddings)}]
    if sample_path is not None:
        from curate._io import sha256_file

        inputs.append({"role": "sample", "name": sample_path.name, "sha256": sha256_file(sample_path)})
        samp.update(name=_shown(sample_path), sha256=inputs[-1]["sha256"])
    k_text = ",".join(map(str, ks))
    parameters = {"threshold": threshold, "method": method, "k": ks, "seed": opts.seed, "id_col": id_col,
                  "emb_id_col": opts.emb_id_col, "split_col": split_col, "patient_col": patient_col,
                  "attrs": attrs}
    emb_flag = ("--emb-id-col", opts.emb_id_col) if opts.emb_id_col != "id" else ()
    commands = {
        "dedup": _cmd("curate", "dedup", emb_shown, "--threshold", f"{threshold:g}", "--method", method,
                      *(("--seed", opts.seed) if opts.seed else ()),
                      *(("--id-col", opts.emb_id_col) if opts.emb_id_col != "id" else ()),
                      *(("--meta", meta_name, "--meta-id-col", id_col, "--split-col", split_col)
                        if split_col else ()),
                      *(("--patient-col", patient_col) if split_col and patient_col else ()),
                      "--out", "dedup/"),
        "cluster": _cmd("curate", "cluster", emb_shown, "--k", k_text,
                        *(("--levels", len(ks)) if len(ks) > 1 else ()), "--seed", opts.seed, *emb_flag,
                        *(("--evaluate", meta_name, "--attr", ",".join(attrs), "--id-col", id_col)
                          if attrs else ()),
                        "--out", "clusters.parquet"),
        "card": _cmd("curate", "build-card", dataset_id, "--metadata", meta_name, "--embeddings", emb_shown,
                     *(("--id-col", id_col) if opts.id_col else ()),
                     *(("--emb-id-col", opts.emb_id_col) if opts.emb_id_col != "id" else ()),
                     *(("--split-col", split_col) if opts.split_col else ()),
                     *(("--patient-col", patient_col) if opts.patient_col else ()),
                     "--threshold", f"{threshold:g}", *(("--method", method) if method != "auto" else ()),
                     "--k", k_text, *(("--levels", len(ks)) if len(ks) > 1 else ()),
                     *(("--attr", ",".join(attrs)) if attrs and opts.attrs is not None else ()),
                     *(("--sample", _shown(sample_path)) if sample_path is not None else ()),
                     *(("--seed", opts.seed) if opts.seed else ()), "--out", f"{dataset_id}-card/"),
    }
    section = render_section(
        n=e.n, d=e.d, emb_name=emb_shown, meta_name=meta_name, id_col=id_col, dedup_summary=dd.summary,
        dedup_pairs=dd.pairs, leak=leak.summary if leak is not None else None, split_col=split_col,
        patient_col=patient_col, ks=ks, sizes=sizes, evaluation=ev, sample=samp, commands=commands,
    )
    return Curation(section=section, dedup=dd, leakage=leak, clusters=cl, evaluation=ev, sample=samp,
                    inputs=inputs, parameters=parameters, commands=commands)


def _read_sample(path: Path, id_col: str) -> pd.DataFrame:
    from curate.engine.embed import read_table

    df = read_table(path)
    if "split" not in df.columns:
        raise InputError(f"sample file '{path.name}' has no 'split' column (write it with `curate sample`)")
    if len(df) == 0:
        raise InputError(f"sample file '{path.name}' has no rows")
    return df


def _sample_counts(df: pd.DataFrame, *, split_col: str, patient_col: str | None, id_col: str,
                   pairs: pd.DataFrame) -> dict[str, Any]:
    """Per-split image and patient counts of a ``curate sample`` file (patients < 11 suppressed), and how
    many of the engine's duplicate pairs have both images in the sample."""
    import pandas as pd

    from curate.privacy import suppress, suppressed_total

    split = df[split_col].astype(str)
    order = [s for s in ("train", "validation", "test", "all") if (split == s).any()]
    order += sorted(set(split) - set(order))
    images = {s: int((split == s).sum()) for s in order}
    out: dict[str, Any] = {"splits": order, "images": images, "rows": int(len(df)),
                           "balanced_by_cluster": any(str(c).startswith("cluster_l") for c in df.columns)}
    if patient_col and patient_col in df.columns:
        pats = pd.Series({s: int(df.loc[split == s, patient_col].nunique()) for s in order})
        shown = suppress(pats) if len(pats) > 1 else pats.map(suppressed_total)
        out["patients"] = {s: (v if isinstance(v, str) else int(v)) for s, v in shown.items()}
        out["patients_total"] = suppressed_total(int(df[patient_col].nunique()))
        per = df.groupby(patient_col)[split_col].nunique()
        out["patients_in_several_splits"] = suppressed_total(int((per > 1).sum()))
    if id_col in df.columns:
        ids = set(df[id_col].astype(str))
        both = pairs["id_a"].astype(str).isin(ids) & pairs["id_b"].astype(str).isin(ids)
        out["duplicate_pairs_in_sample"] = int(both.sum())
    return out


# ------------------------------------------------------------------------------------------- rendering
def _esc(text: str) -> str:
    return str(text).replace("|", "\\|")


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "n/a"


def _by_split(d: dict[str, Any]) -> str:
    items = [f"{k.replace('|', '–')}: {v}" for k, v in d.items() if v != 0]
    return ", ".join(items) if items else "none"


def render_section(*, n: int, d: int, emb_name: str, meta_name: str, id_col: str, dedup_summary: dict,
                   dedup_pairs: pd.DataFrame, leak: dict | None, split_col: str | None,
                   patient_col: str | None, ks: list[int], sizes: dict, evaluation: dict | None,
                   sample: dict | None, commands: dict[str, str]) -> Section:
    """The Markdown of the Curation section from the engine's summaries (numbers only, no ids)."""
    from curate.cards.context import Section
    from curate.engine.cluster import VERDICTS
    from curate.engine.dedup import describe_recall

    s = dedup_summary
    cos = dedup_pairs["cosine"].to_numpy() if len(dedup_pairs) else []
    identical = int(sum(1 for c in cos if c >= IDENTICAL_COSINE))
    near = int(len(cos) - identical)
    lines = [
        f"Findings of the curate engine on `{emb_name}` ({n:,} embeddings, dimension {d}) matched to "
        f"`{meta_name}` by the column `{id_col}`. Only counts and scores are reported — no image or patient "
        "identifier; counts of patients below 11 are shown as `<11` (`*` marks a second cell hidden so that "
        "a `<11` cell cannot be recovered from the totals).",
        "",
        "### Duplicates",
        "",
    ]
    method = {"exact": "exact search over all pairs (blocked inner products)",
              "ivf": "FAISS IVF search", "semantic": "SemDeDup-style clustered search"}.get(s["method"],
                                                                                         s["method"])
    extra = f", nprobe {s['nprobe']} of {s['nlist']} lists" if "nprobe" in s else ""
    keep = ("Each group of duplicates keeps one image (the smallest id; keep rule `components`)."
            if s.get("keep_rule", "components") == "components" else
            "Keep rule `greedy` (SemDeDup): images are visited by id and one is removed when it is a "
            "duplicate of an image already kept, so a group can keep several images.")
    lines += [
        f"Pairs of images whose embeddings have cosine similarity ≥ {s['threshold']:g}, found by {method}"
        f"{extra}; {describe_recall(s)}. {keep}",
        "",
        "| finding | count |",
        "| --- | ---: |",
        f"| duplicate pairs | {s['pairs']:,} |",
        f"| — identical embeddings (cosine ≥ {IDENTICAL_COSINE}) | {identical:,} |",
        f"| — near duplicates ({s['threshold']:g} ≤ cosine < {IDENTICAL_COSINE}) | {near:,} |",
        f"| duplicate groups | {s['groups']:,} |",
        f"| images removed ({'one kept per group' if s.get('keep_rule') != 'greedy' else 'greedy rule'}) | "
        f"{s['removed']:,} of {s['n']:,} "
        f"({_pct(s['removed'], s['n'])}) |",
        f"| images kept | {s['kept']:,} |",
        "",
        f"Command: `{commands['dedup']}` (writes the pairs and `keep.txt`, the keep-list for "
        "`curate sample --keep` and `curate publish --keep`).",
        "",
        "### Leakage between splits",
        "",
    ]
    if leak is None:
        lines += ["Not checked: the metadata has no split column (pass `--split-col COL`).", ""]
    else:
        splits = ", ".join(f"{k} {v:,}" for k, v in leak["splits"].items())
        lines += [
            f"Splits from the metadata column `{split_col}` (images: {splits}).",
            "",
            "| leakage | count |",
            "| --- | ---: |",
            f"| duplicate pairs whose two images lie in different splits | {leak['cross_split_pairs']:,} "
            f"({_by_split(leak['cross_split_pairs_by_split'])}) |",
        ]
        if "patients" in leak:
            p = leak["patients"]
            lines += [
                "| — of which both images are of the same patient | "
                f"{leak['cross_split_pairs_same_patient']:,} |",
                f"| patients with images in more than one split | {p['in_multiple_splits']} "
                f"({_by_split(p['in_multiple_splits_by_split'])}) |",
                f"| patients in total | {p['total']} |",
            ]
        lines.append("")
        if leak["leak"]:
            lines.append("**The splits leak**: models evaluated on them see the same images or patients "
                         "in training and test; re-split by patient (`curate sample --patient-col ... "
                         "--splits`) or apply the keep-list.")
        else:
            lines.append("No leakage found: no duplicate pair and no patient crosses a split.")
        if patient_col is None:
            lines.append("")
            lines.append("Patients not checked: no patient column (pass `--patient-col COL`).")
        lines += ["", f"Command: `{commands['dedup']}` (also writes `leakage.json`).", ""]

    lines += ["### Cluster structure", ""]
    levels = ", ".join(f"level {i + 1}: k={k}" for i, k in enumerate(ks))
    lines += [
        f"Spherical k-means on the embeddings (FAISS, cosine; {levels}"
        + ("; hierarchical k-means, Vo et al. 2024 §3" if len(ks) > 1 else "")
        + f"). Level-1 cluster sizes: min {sizes['size_min']}, median {sizes['size_median']}, "
        f"max {sizes['size_max']}.",
        "",
    ]
    if evaluation:
        th = ", ".join(f"≥ {lo:g} {w}" for lo, w in VERDICTS if lo > -1)
        lines += [
            "Do the clusters stand in for recorded attributes? If they do, a model (or a sampler) working on "
            "the embeddings can pick up the attribute without being given it. Scores are scikit-learn's "
            "adjusted mutual information (AMI, 0 for unrelated labels whatever k is), normalised mutual "
            f"information (NMI) and adjusted Rand index (ARI); the verdict uses AMI ({th}, else not).",
            "",
            "| attribute | level | k | AMI | NMI | ARI | purity | majority share | captured |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        texts = []
        for attr, r in evaluation["attributes"].items():
            if not r.get("levels"):
                lines.append(f"| `{_esc(attr)}` | — | — | — | — | — | — | — | n/a |")
                texts.append(r["verdict"])
                continue
            best = r["best_level"]
            m = r["levels"][best]
            lines.append(f"| `{_esc(attr)}` | {best[9:]} | {m['k']} | {m['ami']:.2f} | {m['nmi']:.2f} | "
                         f"{m['ari']:.2f} | {m['purity']:.2f} | {r['baseline_purity']:.2f} | "
                         f"{r['strength']} |")
            texts.append(r["verdict"] + (f" ({r['note']})" if r.get("note") else ""))
        lines += [""] + [f"- {t[0].upper() + t[1:]}." for t in texts] + [""]
    else:
        lines += ["No attribute column to evaluate the clusters against (pass `--attr COLS`).", ""]
    lines += [f"Command: `{commands['cluster']}`.", ""]

    if sample is not None:
        lines += ["### Balanced sample and splits", ""]
        how = " (balanced by embedding clusters)" if sample["balanced_by_cluster"] else ""
        lines += [f"The sample file `{sample['name']}` (sha256 `{sample['sha256'][:16]}…`), written by "
                  f"`curate sample`{how}, holds {sample['rows']:,} images:", ""]
        has_p = "patients" in sample
        lines += ["| split | images |" + (" patients |" if has_p else ""),
                  "| --- | ---: |" + (" ---: |" if has_p else "")]
        for sp in sample["splits"]:
            lines.append(f"| {sp} | {sample['images'][sp]:,} |"
                         + (f" {sample['patients'][sp]} |" if has_p else ""))
        lines.append("")
        if has_p and any(isinstance(v, str) for v in sample["patients"].values()):
            lines += [f"*{SUPPRESSION_NOTE}.*", ""]
        if has_p:
            lines += [f"Patients in the sample: {sample['patients_total']}; in more than one split: "
                      f"{sample['patients_in_several_splits']}.", ""]
        if "duplicate_pairs_in_sample" in sample:
            k = sample["duplicate_pairs_in_sample"]
            lines.append(f"Duplicate pairs with both images in the sample: {k:,}"
                         + (" (draw it with `--keep dedup/keep.txt` to drop them)." if k else "."))
        lines.append("")
    lines += [f"Reproduce this section: `{commands['card']}`."]
    return Section(TITLE, "\n".join(lines))
