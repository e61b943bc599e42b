"""``curate deid-check`` outputs: :func:`deid_check` runs the check and writes its folder (all or nothing).

The renderers receive computed results (:func:`curate.pipeline.deid_check.run_deid_check`: counts, score,
per-file records, thumbnails that are already masked) and compute nothing. Files written:

- ``pixels.json`` (counts and, with an answer key, the score) and ``pixels.md`` (the same as tables);
- ``files.csv``: one row per checked file (pseudonym, verdict, counts, kinds, BurnedInAnnotation flag);
- ``boxes.csv``: one row per text region (pseudonym, frame, x, y, w, h, kinds);
- ``skipped.csv``: pseudonym and reason of each file not checked;
- ``gallery/``: ``index.html`` and masked PNG thumbnails, written by the shared gallery writer
  (:func:`curate.report.gallery.write_review_gallery` with ``review=False``): Jinja autoescaping, no script,
  no external reference; every frame labelled only by its file pseudonym, frame number and the kinds found.

No recognised text reaches any of them: the records hold none. Everything is written through the exit gate
(:mod:`curate.output`): every table column has a declared role (file ids are ``pseudonym``; counts of files,
frames and boxes are ``measure``: they count files, not people), the page is checked for live markup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def write_gallery(folder: Path, thumbnails: list, total: int) -> Path:
    """``gallery/``: the masked frames, through the shared gallery writer (:mod:`curate.report.gallery`) as
    a look-only page (no script): each frame labelled by its file pseudonym, frame number and kinds found."""
    from curate.report.gallery import GalleryGroup, GalleryItem, write_review_gallery

    groups = [GalleryGroup(key=f"{fid}/{frame}", items=[GalleryItem(f"{fid} · frame {frame}", thumb)],
                           tier=", ".join(kinds) or "text", score=None)
              for fid, frame, kinds, thumb in thumbnails]
    intro = (f"{len(groups):,} of {total:,} frames with text. Every text region the check found is masked "
             "with a filled box (red: an identifier matched; blue: text that matched nothing); no text is "
             "shown. Confirm that the boxes sit where the burned-in text is, and look for text the boxes "
             "missed.")
    return write_review_gallery(folder, groups, title="Burned-in text: review gallery", intro=intro,
                                review=False, thumb_name="frame{:03d}.png")


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{v:.2f} %"


def render_markdown(summary: dict[str, Any], score: dict[str, Any] | None) -> str:
    """``pixels.md``: the per-dataset counts (and the answer-key score) as tables."""
    s = summary
    out = ["# Burned-in text check\n",
           f"{s['files']:,} files; {s['files_checked']:,} checked, {s['files_not_sampled']:,} not sampled "
           f"(series sampling), {s['files_skipped']:,} skipped. Counts, pseudonymised file ids and box "
           "coordinates only: no recognised text is written anywhere.\n",
           "## Files\n", "| verdict | files |", "|---|---:|"]
    out += [f"| {k} | {v:,} |" for k, v in s["verdicts"].items()]
    out += ["", "## Frames\n", "| | frames |", "|---|---:|",
            f"| checked | {s['frames_checked']:,} |",
            f"| skipped by the text-region pre-filter | {s['frames_skipped_by_prefilter']:,} |",
            f"| with text | {s['frames_with_text']:,} |",
            f"| with an identifier | {s['frames_with_identifiers']:,} |",
            f"| downsampled to the size bound | {s['frames_downsampled']:,} |",
            f"| corrupt (listed, not checked) | {s['frames_corrupt']:,} |",
            f"| OCR failed (listed, not checked) | {s.get('frames_ocr_failed', 0):,} |"]
    out += ["", "## What the text matched\n", "| kind | frames |", "|---|---:|"]
    out += [f"| {k} | {v:,} |" for k, v in s["frames_by_kind"].items()]
    out += ["", "## BurnedInAnnotation\n", "| header says | files |", "|---|---:|"]
    flags = sorted(s["burned_in_annotation"].items())
    out += [f"| {k} | {v:,} |" for k, v in flags] or ["| (no inconsistency) | 0 |"]
    if s["skipped_reasons"]:
        out += ["", "## Skipped files (listed in skipped.csv)\n", "| reason | files |", "|---|---:|"]
        out += [f"| {k} | {v:,} |" for k, v in sorted(s["skipped_reasons"].items())]
    if score:
        out += ["", "## Answer key\n",
                f"{score['instances_found']:,} of {score['instances_in_key']:,} instances of the key were "
                "found in the folder.\n", "| | % correct actions | passed | failed | not evaluated |",
                "|---|---:|---:|---:|---:|"]
        for g in ("headers", "pixels"):
            d = score.get(g)
            if d:
                out.append(f"| {g} | {_pct(d['percent_correct'])} | {d['passed']:,} | {d['failed']:,} | "
                           f"{d['not_evaluated']:,} |")
        r = score.get("residual_phi_recall")
        out.append(f"\nResidual-PHI recall (key regions where the check found an identifier): "
                   f"{'n/a' if r is None else f'{r:.3f}'} ({score['pixel_regions_with_identifier_found']:,} "
                   f"of {score['pixel_regions']:,}).")
    return "\n".join(out) + "\n"


#: Roles of the columns of files.csv, boxes.csv and skipped.csv at the exit gate: file ids are keyed
#: pseudonyms, every number counts frames, boxes or pixels of a file (``measure``), never people.
TABLE_ROLES = {
    "file": "pseudonym", "format": "label", "modality": "label", "verdict": "label", "kinds": "label",
    "burned_in_annotation": "label", "burned_in_flag": "label", "reason": "text",
    **{c: "measure" for c in ("frames_checked", "frames_skipped_prefilter", "frames_with_text",
                              "frames_with_identifiers", "downsampled_frames", "corrupt_frames",
                              "ocr_failed_frames", "frame", "x", "y", "w", "h")}}


def _table(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    import pandas as pd

    from curate.output import write_table

    frame = pd.DataFrame(rows, columns=header) if rows else pd.DataFrame(columns=header)
    return write_table(frame, path, roles={c: TABLE_ROLES[c] for c in header}, atomic=False)


def write_outputs(tmp: Path, res: Any) -> None:
    """Every output of a :class:`curate.pipeline.deid_check.DeidCheckResult` into the folder ``tmp`` (being
    built by :func:`curate.output.output_folder`)."""
    from curate.output import write_json, write_text

    recs = res.records
    write_json(tmp / "pixels.json", {"summary": res.summary, "score": res.score}, atomic=False)
    write_text(tmp / "pixels.md", render_markdown(res.summary, res.score), atomic=False)
    rows = res.file_rows
    _table(tmp / "files.csv", list(rows[0]) if rows else ["file"], [list(r.values()) for r in rows])
    _table(tmp / "boxes.csv", ["file", "frame", "x", "y", "w", "h", "kinds"],
           [[r["file"], *b[:5], ";".join(b[5])] for r in recs if "skip" not in r for b in r["boxes"]])
    _table(tmp / "skipped.csv", ["file", "reason"], [[r["file"], r["skip"]] for r in recs if "skip" in r])
    if res.thumbnails or res.frames_with_text:
        write_gallery(tmp / "gallery", res.thumbnails, res.frames_with_text)


def deid_check(folder: str | os.PathLike, out: str | os.PathLike, **options: Any) -> Any:
    """Run :func:`curate.pipeline.deid_check.run_deid_check` (``options`` are its keywords) and write ``out``
    (a new folder, written all or nothing); returns the result."""
    from curate.output import output_folder
    from curate.pipeline.deid_check import run_deid_check

    res = run_deid_check(folder, out, **options)
    with output_folder(out, overwrite=False, kind="deid-check", make_parents=True) as tmp:
        write_outputs(Path(tmp), res)
    res.release()
    return res
