"""Renderers of ``curate deid-check``: ``pixels.md`` and the masked review gallery (one offline folder).

They receive computed results (:mod:`curate.scan.pixels.summary`, :mod:`curate.scan.pixels.answers`) and
thumbnails that are already masked; they compute nothing. The gallery page is rendered with Jinja
autoescaping (:func:`curate.policy.html.jinja_env`), has no script and no external reference, and labels
every frame only by its file pseudonym, frame number and the kinds found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_GALLERY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Burned-in text: review gallery</title>
<style>body{font-family:sans-serif;margin:1.5em}figure{display:inline-block;margin:.4em;vertical-align:top}
figcaption{font-size:12px;max-width:220px;word-break:break-all}img{border:1px solid #888}</style></head>
<body><h1>Burned-in text: review gallery</h1>
<p>{{ shown }} of {{ total }} frames with text. Every text region the check found is masked with a filled
box (red: an identifier matched; blue: text that matched nothing); no text is shown. Confirm that the boxes
sit where the burned-in text is, and look for text the boxes missed.</p>
{% for it in items %}<figure><img src="{{ it.src | safe_url }}" alt="{{ it.label }}" width="{{ it.w }}">
<figcaption>{{ it.label }}</figcaption></figure>
{% endfor %}</body></html>
"""


def render_gallery(items: list[dict[str, Any]], total: int) -> str:
    """``index.html`` of the gallery: ``items`` have ``src`` (a relative PNG name), ``label``, ``w``."""
    from jinja2 import DictLoader

    from curate.policy.html import jinja_env

    env = jinja_env(DictLoader({"gallery.html": _GALLERY}))
    return env.get_template("gallery.html").render(items=items, shown=len(items), total=total)


def write_thumbnail(path: Path, thumb: Any) -> None:
    from PIL import Image

    Image.fromarray(thumb).save(path, format="PNG")


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
