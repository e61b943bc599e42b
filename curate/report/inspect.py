"""``curate inspect`` outputs: the summary and the files of a :class:`curate.pipeline.inspect.InspectReport`.

Computes nothing and writes through the exit gate (:mod:`curate.output`):

- ``summary.json`` — per check: the engine's summary and notes; the rows checked, the rows flagged and the
  flagged rows per given label (label check) or per issue (quality check) protected together
  (:func:`curate.output.parts.protect_parts`: small cells ``<11``, complements ``*``, the unflagged rest a
  cell too); annotator agreement's row counts protected; the shortcut check's table (one row per attribute).
  Counts of files (a DICOM folder's files, files checked) count files, not people, and are shown as they are.
- ``shortcuts.csv`` — the shortcut table, one row per attribute (a role per column).
- ``gallery/`` — the top examples of each issue type of the checks that read image files (thumbnails made by
  the pipeline, :mod:`curate.pipeline.inspect_gallery`), a look-only page; a local working file too.
- ``issues.csv`` — one row per flagged image under a keyed pseudonym (:mod:`curate.policy.pseudonyms`):
  a LOCAL WORKING FILE for the user's own review, never published (counting its rows gives the exact
  per-class counts that ``summary.json`` hides; see docs/privacy.md, "Local working files").
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.pipeline.inspect import InspectReport

#: Roles of ``issues.csv`` (a local working file; see the module docstring).
ISSUES_ROLES = {"id": "pseudonym", "issue": "label", "score": "value", "given_label": "label",
                "suggested_label": "label", "group": "value"}
#: Roles of ``shortcuts.csv``: the attribute's name and verdict are labels, the rest scores and flags that
#: identify no one (``values``, ``label_classes_used``: how many values / classes, not people).
SHORTCUT_ROLES = {
    "attribute": "label", "verdict": "label", "values": "measure", "label_classes_used": "measure",
    **{c: "value" for c in (
        "within_label_auc", "within_label_auc_low", "within_label_auc_high", "permutation_p",
        "attribute_label_auc", "attribute_label_auc_low", "attribute_label_auc_high", "cramers_v",
        "label_auc_grouped", "label_auc_held_out", "held_out_drop", "held_out_drop_low", "held_out_drop_high",
        "readable", "label_linked")}}
GALLERY_INTRO = ("The highest-scored images of each issue type found by the checks that read image files, "
                 "one tile each: its keyed pseudonym (as in issues.csv), the check and issue, and the score "
                 "(higher = worse). A local working file, like issues.csv: for your own review, never "
                 "published.")
#: Keys of ``summary.json`` whose values count people (images): checked by the gate.
SUMMARY_COUNTS = ("rows", "flagged", "images_flagged", "flagged_by_issue", "flagged_by_given_label", "groups",
                  "pairs", "pairs_across_patients")



def _flagged_counts(summ: dict, flagged: pd.DataFrame) -> dict[str, Any]:
    """The whole, the flagged part and its breakdown of one check, protected together."""
    from curate.output.parts import protect_parts
    from curate.policy.disclosure import hidden_json

    out: dict[str, Any] = {}
    if "images_flagged" in summ:  # quality: images per issue (an image may have several issues)
        whole, part = int(summ["checked"]), int(summ["images_flagged"])
        by = {str(k): int(v) for k, v in sorted(summ.pop("flagged_by_issue", {}).items())}
        _, part_s, by_s = protect_parts(whole, part, by, overlapping=True, whole_is_measure=True)
        summ["images_flagged"] = summ["flagged"] = hidden_json(part_s)
        out["flagged_by_issue"] = {k: hidden_json(v) for k, v in by_s.items()}
        return out
    by = {}
    if "given_label" in flagged:
        counts = flagged["given_label"].astype(str).value_counts().sort_index()
        by = {str(k): int(v) for k, v in counts.items()}
    whole = int(summ.get("rows", len(flagged)))
    whole_s, part_s, by_s = protect_parts(whole, len(flagged), by)
    if "rows" in summ:
        summ["rows"] = hidden_json(whole_s)
    summ["flagged"] = hidden_json(part_s)
    if by_s:
        out["flagged_by_given_label"] = {k: hidden_json(v) for k, v in by_s.items()}
    return out


def _pair_counts(summ: dict) -> None:
    """Near-duplicate groups protected alone; pairs and pairs across patients protected together (the
    pairs within patients are their difference)."""
    from curate.output import protect_count
    from curate.output.parts import protect_parts
    from curate.policy.disclosure import hidden_json

    if "groups" in summ:
        summ["groups"] = hidden_json(protect_count(int(summ["groups"])))
    if "pairs" in summ:
        whole, part, _ = protect_parts(int(summ["pairs"]), int(summ.pop("pairs_across_patients", 0)), {})
        summ["pairs"], summ["pairs_across_patients"] = hidden_json(whole), hidden_json(part)


def summary(report: InspectReport) -> dict:
    """``summary.json`` as it may leave (counts protected; see the module docstring)."""
    from curate.output import protect_count
    from curate.policy.disclosure import hidden_json

    out: dict[str, Any] = {}
    for name, res in report.results.items():
        entry: dict[str, Any] = {"summary": json.loads(json.dumps(dict(res.summary), default=str)),
                                 "notes": list(res.notes)}
        iss = res.issues
        if iss is not None and len(iss):
            flagged = iss[iss["flagged"].astype(bool)]
            entry.update(_flagged_counts(entry["summary"], flagged))
        _pair_counts(entry["summary"])
        agreement = entry["summary"].get("agreement")
        if agreement:
            agreement["rows"] = hidden_json(protect_count(int(agreement["rows"])))
            for pair in agreement["pairs"]:
                pair["rows"] = hidden_json(protect_count(int(pair["rows"])))
        if res.table is not None:
            entry["table"] = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                              for r in res.table.to_dict("records")]  # NaN as null
        out[name] = entry
    return out


def issues_frame(report: InspectReport, key: Any) -> pd.DataFrame:
    """One row per flagged image: keyed pseudonym, issue, score (and the given and suggested labels)."""
    import pandas as pd

    frames = []
    for name, res in report.results.items():
        iss = res.issues
        if iss is None or not len(iss):
            continue
        iss = iss[iss["flagged"].astype(bool)]
        raw = report.ids[name][iss["row"].to_numpy(dtype=int)]
        out = pd.DataFrame({"id": key.pseudonymise(raw, kind="image"),
                            "issue": iss["issue"].to_numpy(), "score": iss["score"].to_numpy()})
        for c in ("given_label", "suggested_label"):
            if c in iss:
                out[c] = iss[c].to_numpy()
        if "group" in iss:
            out["group"] = iss["group"].astype("Int64").to_numpy()
        frames.append(out)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["id", "issue", "score"])


def write_inspect(report: InspectReport, out: str | os.PathLike, *, key_file: str | None = None,
                  key: Any = None) -> dict:
    """Write ``issues.csv``, ``shortcuts.csv`` (when the shortcut check ran) and ``summary.json`` to ``out``
    (all or nothing, through the exit gate); returns the summary. ``key``: the pseudonym key (default: the
    report's, else :func:`curate.policy.pseudonyms.load_key` of ``key_file``)."""
    from curate.output import output_folder, write_json, write_table
    from curate.policy.pseudonyms import load_key

    key = key or getattr(report, "key", None) or load_key(key_file)
    key.check_outside(out)
    summ = summary(report)
    issues = issues_frame(report, key)
    syn = report.synthetic
    with output_folder(out, kind="inspect") as tmp:
        write_table(issues, tmp / "issues.csv", roles=ISSUES_ROLES, synthetic=syn, atomic=False)
        sc = report.results.get("shortcut")
        if sc is not None and sc.table is not None:
            write_table(sc.table, tmp / "shortcuts.csv", roles=SHORTCUT_ROLES, synthetic=syn, atomic=False)
        write_json(tmp / "summary.json", summ, counts=SUMMARY_COUNTS, synthetic=syn, atomic=False)
        if report.gallery:
            from curate.report.gallery import write_review_gallery

            write_review_gallery(tmp / "gallery", report.gallery, intro=GALLERY_INTRO, review=False,
                                 title="curate inspect: top examples per issue")
    if syn:
        from curate.synthetic import SUMMARY_NOTE

        summ = {"synthetic": True, "note": SUMMARY_NOTE, **summ}
    return summ
