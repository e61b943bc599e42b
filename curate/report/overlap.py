"""``curate overlap`` outputs: :func:`overlap` runs the measurement and writes its folder (all or nothing).

The renderer receives the gathered run (:func:`curate.pipeline.overlap.run_overlap`: pseudonymised pairs,
raw matrices, the eval set's contamination) and computes nothing but the protection of patient counts at
the exit gate. Files written:

- ``summary.json`` and ``overlap.md``: inputs, tiers, pairs per tier, skipped files, matrices;
- ``matrix_images.csv``: one block per tier (column ``tier``), rows = dataset A, columns = datasets B, each
  cell the number of B's images found in A at that tier (diagonal: B's size). Images are measures;
- ``matrix_patients.csv`` (only where two inputs have patients): the same for patients at tiers 1-3
  together, each cell protected against its column's total (small cells ``<11``, complements ``*``);
- ``pairs.csv``: dataset and image pseudonym of both sides, tier, score, verified, review;
- ``skipped.csv``: dataset, image pseudonym and reason of each unreadable file;
- with ``--train/--eval``: ``contamination.csv`` (per tier, cumulative: eval images and patients found in
  train and their share of the eval set) and ``drop_from_eval.csv``, the eval ids to drop. That file holds
  the user's own raw ids of the user's own eval set, so it is a LOCAL file (:func:`curate.output.write_local`,
  ids only in its ``id`` column): keep it, never share it; every other file holds pseudonyms only;
- ``gallery/``: the review page (:func:`curate.report.gallery.write_review_gallery`) of the top pairs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curate.pipeline.overlap import COPY_TIERS, OverlapRun

#: Roles of the pair, skipped, drop and contamination columns at the exit gate.
ROLES = {"dataset_a": "label", "pseudonym_a": "pseudonym", "dataset_b": "label", "pseudonym_b": "pseudonym",
         "tier": "label", "score": "value", "verified": "value", "review": "label", "dataset": "label",
         "file": "pseudonym", "reason": "text", "pseudonym": "pseudonym", "eval_images": "measure",
         "eval_images_found": "measure", "share_of_eval_images": "value", "eval_patients": "count",
         "eval_patients_found": "count", "share_of_eval_patients": "value", "tiers": "label"}
DROP_NAME = "drop_from_eval.csv"
GALLERY_INTRO = ("Each card is a pair of images from two datasets, labelled only by keyed pseudonyms, with "
                 "the tier that matched them and its score. Tiers bytes, pixels and perceptual are copies "
                 "(the perceptual ones verified on the decoded pixels); embedding pairs are candidates only.")


def protect_patient_matrix(matrix: Any) -> Any:
    """A display copy of the patients matrix (rows A, columns B): every cell counts B's patients found in
    A, a part of B's patients (the diagonal), so it is protected with its complement in that total."""
    import pandas as pd

    from curate.output import protect_count

    out = matrix.astype(object).copy()
    for b in matrix.columns:
        total = matrix.at[b, b] if b in matrix.index else None
        for a in matrix.index:
            v = matrix.at[a, b]
            if pd.isna(v):
                out.at[a, b] = None
            elif a == b or pd.isna(total):
                out.at[a, b] = protect_count(int(v))
            else:
                out.at[a, b] = protect_count(int(v), int(total))
    return out


def protect_contamination(cont: Any, run: OverlapRun) -> Any:
    """The contamination table as it may be shown: images are measures; patients are the tiers' disjoint
    increments plus the eval patients not found, one family whose total (the eval set's patients) is
    published, protected together — a cumulative count is shown only when every increment under it is."""
    import pandas as pd

    from curate.output import protect_count, protect_counts

    rows = cont.reset_index(drop=True)
    n_img = int(run.sizes[run.eval])
    out = pd.DataFrame({"tiers": rows["tier"].astype(str), "eval_images": n_img,
                        "eval_images_found": rows["images"].astype(int),
                        "share_of_eval_images": (rows["images"].astype(float) / max(n_img, 1)).round(4)})
    n_pat = run.patients.get(run.eval)
    if n_pat is None or "patients" not in rows or rows["patients"].isna().all():
        return out
    cum = [int(v) for v in rows["patients"].fillna(0)]
    inc = {t: c - p for t, c, p in zip(out["tiers"], cum, [0, *cum[:-1]])}
    shown = protect_counts({**inc, "(not found)": n_pat - (cum[-1] if cum else 0)}, total=n_pat)
    total_shown = protect_count(n_pat)
    found, share, hidden = [], [], isinstance(total_shown, str)
    for t, c in zip(out["tiers"], cum):
        hidden = hidden or isinstance(shown[t], str)
        found.append("*" if hidden else c)
        share.append(None if hidden else round(c / max(n_pat, 1), 4))
    out["eval_patients"] = total_shown
    out["eval_patients_found"] = found
    out["share_of_eval_patients"] = share
    return out


def _matrix_frame(matrices: dict[str, Any], names: list[str]) -> Any:
    """The image matrices stacked into one table: ``tier``, ``dataset`` (rows: found in), one column per B."""
    import pandas as pd

    parts = []
    for label, m in matrices.items():
        part = m.reindex(index=names, columns=names).astype("Int64").reset_index(names="dataset")
        part.insert(0, "tier", label)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _md_matrix(frame: Any, names: list[str], unit: str = "images") -> list[str]:
    import pandas as pd

    lines = [f"| found in ↓ · {unit} of → | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for a in names:
        cells = []
        for b in names:
            v = frame.at[a, b]
            cells.append("–" if v is None or (not isinstance(v, str) and pd.isna(v)) else
                         (v if isinstance(v, str) else f"{int(v):,}"))
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return lines


def pd_na(v: Any) -> bool:
    import pandas as pd

    return v is None or bool(pd.isna(v))


def summary_of(run: OverlapRun, patients: dict[str, Any], cont: Any, pmatrix: Any = None) -> dict[str, Any]:
    """``summary.json``: inputs (images as measures, patients protected), tiers, pairs, skipped, params."""
    import datetime

    by_tier = {t: int((run.pairs["tier"] == t).sum()) for t in run.tiers}
    images = {label: {a: {b: (None if pd_na(m.at[a, b]) else int(m.at[a, b])) for b in run.names}
                      for a in run.names} for label, m in run.matrices.items()}
    s: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "inputs": [{"dataset": n, "kind": run.kinds[n], "images": run.sizes.get(n, 0),
                    "patients": patients.get(n, "not reported")} for n in run.names],
        "tiers": run.tiers, "copy_tiers": [t for t in run.tiers if t in COPY_TIERS],
        "pairs": int(len(run.pairs)), "pairs_by_tier": by_tier,
        "verified_pairs": int(run.pairs["verified"].sum()) if len(run.pairs) else 0,
        "skipped": len(run.skipped), "params": run.params, "timings": run.timings,
        "matrix_images": images,
    }
    if pmatrix is not None:  # protected cells (markers) of B's patients found in A
        s["matrix_patients"] = {"patients": {a: {b: pmatrix.at[a, b] for b in run.names} for a in run.names}}
    if run.decisions is not None:
        s["decisions"] = run.decisions
    if cont is not None:
        s["contamination"] = {"train": run.train, "eval": run.eval,
                              "rows": cont.where(cont.notna(), None).to_dict(orient="records")}
        if run.drop is not None:
            s["contamination"]["drop_from_eval"] = int(len(run.drop))
            s["contamination"]["drop_file"] = DROP_NAME + " (local: the eval set's own ids; never share it)"
    return s


def render_markdown(s: dict[str, Any], run: OverlapRun, pmatrix: Any) -> str:
    """``overlap.md``: the summary and one matrix per tier (patients: tiers 1-3 together)."""
    names = run.names
    ins = ", ".join(f"{i['dataset']} ({i['kind']}, {i['images']:,} images)" for i in s["inputs"])
    out = ["# Overlap between datasets\n",
           f"Inputs: {ins}. "
           f"Tiers: {', '.join(s['tiers'])}. {s['pairs']:,} cross-dataset pairs, each at its strongest tier; "
           f"{s['skipped']:,} unreadable files skipped (skipped.csv). Image ids appear only as keyed "
           "pseudonyms.\n", "## Pairs per tier\n", "| tier | pairs | meaning |", "|---|---:|---|"]
    meaning = {"bytes": "identical files (SHA-256)", "pixels": "identical decoded pixels",
               "perceptual": "perceptual copy, verified on the decoded pixels",
               "embedding": "embedding neighbours: candidates for review, not copies"}
    out += [f"| {t} | {n:,} | {meaning[t]} |" for t, n in s["pairs_by_tier"].items()]
    if "decisions" in s:
        d = s["decisions"]
        out += ["", f"Reviewer decisions: {d['decisions']:,} read, {d['applied']:,} met a pair of this run: "
                f"{d['not_copy']:,} pairs marked not a copy were dropped, {d['copy']:,} confirmed as copies; "
                f"{d['unmatched']:,} met no pair (another run, or another key)."]
    for label, m in run.matrices.items():
        out += ["", f"## Images: {label}\n", "Cell (row A, column B): images of B found in A; diagonal: B's "
                "images.\n", *_md_matrix(m.reindex(index=names, columns=names), names)]
    if pmatrix is not None:
        out += ["", "## Patients: tiers " + ", ".join(t for t in run.tiers if t in COPY_TIERS) + "\n",
                "Cell (row A, column B): patients of B with an image found in A; diagonal: B's patients. "
                "Small counts are shown as `<11`, counts that would reveal one as `*`.\n",
                *_md_matrix(pmatrix.reindex(index=names, columns=names), names, "patients")]
    c = s.get("contamination")
    if c:
        out += ["", f"## Contamination of {c['eval']} by {c['train']}\n",
                "| tiers (cumulative) | eval images found | share | eval patients found | share |",
                "|---|---:|---:|---:|---:|"]
        for r in c["rows"]:
            pf, ps = r.get("eval_patients_found", "–"), r.get("share_of_eval_patients")
            tier = r["tiers"] + (" (candidates, not copies)" if r["tiers"] == "embedding" else "")
            out.append(f"| {tier} | {r['eval_images_found']:,} | {r['share_of_eval_images']:.2%} | "
                       f"{pf if isinstance(pf, str) else f'{pf:,}'} | {'–' if ps is None else f'{ps:.2%}'} |")
        if "drop_from_eval" in c:
            out += ["", f"{c['drop_from_eval']:,} eval images to drop for a clean evaluation are listed in "
                    f"`{DROP_NAME}`: a LOCAL file with the eval set's own ids. Keep it; never share it."]
    return "\n".join(out) + "\n"


def _table(frame: Any, path: Path, roles: dict[str, str], synthetic: bool) -> None:
    from curate.output import write_table

    write_table(frame, path, roles=roles, synthetic=synthetic, atomic=False)


def write_outputs(tmp: Path, run: OverlapRun) -> dict[str, Any]:
    """Every output of ``run`` into ``tmp`` (a folder being built by :func:`curate.output.output_folder`);
    returns the summary as written."""
    from curate.output import write_json, write_local, write_text

    syn, names = run.synthetic, run.names
    pm = protect_patient_matrix(run.patient_matrix) if run.patient_matrix is not None else None
    patients = {n: pm.at[n, n] for n in names if pm is not None and n in pm.index and pm.at[n, n] is not None}
    if pm is None:
        from curate.output import protect_count

        patients = {n: protect_count(v) for n, v in run.patients.items()}
    cont = protect_contamination(run.contamination, run) if run.contamination is not None else None
    s = summary_of(run, patients, cont, pm)
    counts = ("patients", "eval_patients", "eval_patients_found")
    write_json(tmp / "summary.json", s, counts=counts, synthetic=syn, atomic=False)
    write_text(tmp / "overlap.md", render_markdown(s, run, pm), synthetic=syn, atomic=False)
    mroles = {"tier": "label", "dataset": "label"}
    _table(_matrix_frame(run.matrices, names), tmp / "matrix_images.csv",
           {**mroles, **{n: "measure" for n in names}}, syn)
    if pm is not None:
        frame = pm.reindex(index=names, columns=names).reset_index(names="dataset")
        frame.insert(0, "tier", "+".join(t for t in run.tiers if t in COPY_TIERS))
        _table(frame, tmp / "matrix_patients.csv", {**mroles, **{n: "count" for n in names}}, syn)
    _table(run.pairs, tmp / "pairs.csv", ROLES, syn)
    import pandas as pd

    _table(pd.DataFrame(run.skipped, columns=["dataset", "file", "reason"]), tmp / "skipped.csv", ROLES, syn)
    if cont is not None:
        _table(cont, tmp / "contamination.csv", ROLES, syn)
    if run.drop is not None:
        write_local(run.drop, tmp / DROP_NAME, ids=["id"], roles=ROLES, synthetic=syn, atomic=False)
    if run.gallery:
        _write_gallery(tmp / "gallery", run)
    return s


def _write_gallery(folder: Path, run: OverlapRun) -> None:
    from curate.report.gallery import write_review_gallery

    title = ("SYNTHETIC data: " if run.synthetic else "") + "Overlap between datasets: review gallery"
    intro = (f"{len(run.gallery):,} of {len(run.pairs):,} pairs, strongest tier first, then highest score. "
             + GALLERY_INTRO + (" Built from SYNTHETIC data." if run.synthetic else ""))
    write_review_gallery(folder, run.gallery, title=title, intro=intro)


def overlap(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, **options: Any) -> OverlapRun:
    """Measure which images and patients the datasets ``inputs`` share and write ``out`` (a folder written
    all or nothing); ``options`` are :func:`curate.pipeline.overlap.run_overlap`'s keywords. Returns the run
    (its ``summary`` is what ``summary.json`` holds)."""
    from curate.output import output_folder
    from curate.pipeline.overlap import run_overlap

    run = run_overlap(inputs, out, **options)
    with output_folder(out, kind="overlap", make_parents=True) as tmp:
        run.summary = write_outputs(Path(tmp), run)
    return run
