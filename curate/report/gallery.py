"""The review gallery: one offline folder (``index.html`` + ``thumbs/*.png``) where a reviewer marks each
candidate pair or group "copy" / "not a copy" and saves ``decisions.csv``.

Used by ``curate dedup --gallery`` (duplicate groups, the kept image first), ``curate overlap`` (pairs across
datasets) and ``curate inspect`` (top examples of each issue). What the page holds:

- thumbnails (:mod:`curate.pipeline.thumbnails`) side by side, each labelled only by a keyed pseudonym and
  its dataset label, with the group's tier and score; nothing else about a file (no id, no path);
- one inline script, :data:`REVIEW_SCRIPT`, fixed text with no data in it: it reads the ``data-a`` /
  ``data-b`` attributes (pseudonyms) of the page's own elements and keeps the "Save decisions" link's
  ``href`` a ``data:`` URL of ``decisions.csv`` (columns ``a, b, decision``; one row per pair of each decided
  group; ``decision`` is ``copy`` or ``not-copy``). The exit gate accepts this script by the SHA-256 of its
  text (:data:`curate.policy.html.ALLOWED_SCRIPTS`) and refuses any other script, handler or external
  reference; the page is rendered with Jinja autoescaping (:func:`curate.policy.html.jinja_env`).

The reviewer's file is read back by :func:`curate.pipeline.decisions.read_decisions`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from curate.pipeline.thumbnails import GalleryGroup, GalleryItem

__all__ = ["GalleryGroup", "GalleryItem", "REVIEW_SCRIPT", "write_review_gallery", "png_bytes"]

#: The page's one script (its SHA-256 is allow-listed in curate.policy.html.ALLOWED_SCRIPTS: any change
#: here must be made there too, or the gate refuses the page).
REVIEW_SCRIPT = """
(function () {
  "use strict";
  var save = document.getElementById("save");
  function q(v) {
    v = String(v === null ? "" : v);
    return /[",\\r\\n]/.test(v) ? "\\"" + v.replace(/"/g, "\\"\\"") + "\\"" : v;
  }
  function csv() {
    var rows = ["a,b,decision"];
    Array.prototype.forEach.call(document.querySelectorAll("section.group"), function (g) {
      var c = g.querySelector("input.choice:checked");
      if (!c) { return; }
      Array.prototype.forEach.call(g.querySelectorAll(".pair"), function (p) {
        rows.push(q(p.getAttribute("data-a")) + "," + q(p.getAttribute("data-b")) + "," + q(c.value));
      });
    });
    return rows.join("\\n") + "\\n";
  }
  function update() {
    var n = document.querySelectorAll("input.choice:checked").length;
    save.setAttribute("href", "data:text/csv;charset=utf-8," + encodeURIComponent(csv()));
    document.getElementById("decided").textContent = String(n);
    document.body.setAttribute("data-decided", String(n));
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.classList && t.classList.contains("choice")) { update(); }
  });
  update();
  document.body.setAttribute("data-ready", "1");
})();
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:80em}
section.group{border:1px solid #bbb;border-radius:4px;margin:.8em 0;padding:.5em .8em}
section.group h2{font-size:14px;margin:.2em 0 .4em;font-weight:normal}
figure{display:inline-block;margin:.3em .5em .3em 0;vertical-align:top}
figcaption{font-size:12px;max-width:{{ size }}px;word-break:break-all}img{border:1px solid #888}
.kept figcaption{font-weight:bold}.choices label{margin-right:1.2em}
#bar{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd}
.pairs{display:none}</style></head>
<body><h1>{{ title }}</h1>
<p>{{ intro }}</p>
{% if review %}<p>Files are labelled only by keyed pseudonyms. Mark each {{ noun }} "copy" or
"not a copy" (leave it undecided to keep the automatic result), then save the decisions and pass the
file back with <code>--decisions {{ decisions_name }}</code>.</p>
<div id="bar"><a id="save" download="{{ decisions_name }}">Save decisions ({{ decisions_name }})</a>
· <span id="decided">0</span> of {{ groups | length }} decided</div>{% endif %}
{% for g in groups %}<section class="group" id="g{{ loop.index }}" data-key="{{ g.key }}">
<h2>{{ loop.index }}. {{ g.tier }}{% if g.score is not none %} · score {{ g.score }}{% endif %}
{% if g.n > 1 %} · {{ g.n }} images{% endif %}
{% if g.more %} ({{ g.more }} more not shown){% endif %}</h2>
{% for it in g.tiles %}<figure{% if loop.first and g.kept_first %} class="kept"{% endif %}>
<img src="{{ it.src | safe_url }}" alt="{{ it.label }}" width="{{ it.w }}" height="{{ it.h }}">
<figcaption>{{ it.label }}{% if it.dataset %} · {{ it.dataset }}{% endif %}
{% if loop.first and g.kept_first %} · kept{% endif %}</figcaption></figure>
{% endfor %}{% if review %}<ul class="pairs">{% for a, b in g.pairs %}
<li class="pair" data-a="{{ a }}" data-b="{{ b }}">{{ a }} / {{ b }}</li>{% endfor %}</ul>
<div class="choices">
<label><input type="radio" class="choice" name="d{{ loop.index }}" value="copy"> copy</label>
<label><input type="radio" class="choice" name="d{{ loop.index }}" value="not-copy"> not a copy</label>
</div>{% endif %}</section>
{% endfor %}{% if review %}<script>{{ script }}</script>{% endif %}
</body></html>
"""


def png_bytes(image: np.ndarray | None, size: int = 192) -> tuple[bytes, int, int]:
    """PNG bytes, width and height of a thumbnail (uint8 array; ``None``: the "no image" tile)."""
    from PIL import Image

    from curate.pipeline.thumbnails import embedding_placeholder

    arr = embedding_placeholder(size=size) if image is None else np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"a gallery image must be uint8 (a thumbnail), got {arr.dtype}")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue(), int(arr.shape[1]), int(arr.shape[0])


def _score(score: Any) -> str | None:
    if score is None or (isinstance(score, float) and score != score):
        return None
    return f"{float(score):.4g}"


def render_page(groups: list[dict[str, Any]], *, title: str, intro: str, decisions_name: str,
                size: int = 192, noun: str = "pair or group", review: bool = True) -> str:
    """``index.html`` of the gallery from prepared groups (``tiles``: ``src``, ``label``, ``w``, ``h``)."""
    from jinja2 import DictLoader
    from markupsafe import Markup

    from curate.policy.html import jinja_env

    env = jinja_env(DictLoader({"review.html": _PAGE}))
    script = Markup(REVIEW_SCRIPT)  # fixed text of this module, not data; the gate checks its digest
    return env.get_template("review.html").render(
        groups=groups, title=title, intro=intro, decisions_name=decisions_name, size=size, noun=noun,
        review=review, script=script)


def _check_name(decisions_name: str) -> str:
    from curate.errors import UsageError

    name = str(decisions_name)
    if not name.endswith(".csv") or "/" in name or "\\" in name or name.startswith("."):
        raise UsageError(f"decisions_name must be a plain file name ending in .csv, got {name!r}")
    return name


def write_review_gallery(folder: str | Path, groups: list[GalleryGroup], *, title: str, intro: str,
                         decisions_name: str = "decisions.csv", size: int = 192, atomic: bool = False,
                         review: bool = True, thumb_name: str = "thumbs/t{:05d}.png") -> Path:
    """Write ``folder/index.html`` and ``folder/thumbs/*.png`` (``folder`` is created) through the exit gate;
    returns ``folder/index.html``. ``atomic=False``: inside an output folder being built
    (:func:`curate.output.output_folder`), as every multi-file output is. ``review=False``: a gallery to look
    at only (no choices, no save link, no script: ``deid-check``'s); ``thumb_name``: the thumbnails' relative
    paths (a format string of their running number)."""
    from curate.output import write_bytes, write_text

    name = _check_name(decisions_name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prepared = []
    n = 0
    for g in groups:
        items = []
        for it in g.items:
            data, w, h = png_bytes(it.image, size)
            src = thumb_name.format(n)
            (folder / src).parent.mkdir(parents=True, exist_ok=True)
            write_bytes(folder / src, data, atomic=atomic)
            n += 1
            zoom = max(1.0, min(size, 128) / max(w, h))  # small images are shown at least 128 px wide
            items.append({"src": src, "label": str(it.label), "dataset": str(it.dataset or ""),
                          "w": round(w * zoom), "h": round(h * zoom)})
        labels = [str(it.label) for it in g.items]
        pairs = g.pairs if g.pairs is not None else [(labels[0], b) for b in labels[1:]]
        prepared.append({"key": str(g.key), "tiles": items, "tier": str(g.tier), "score": _score(g.score),
                         "pairs": [(str(a), str(b)) for a, b in pairs], "kept_first": g.kept_first,
                         "more": len({x for p in pairs for x in p} - set(labels))})
        prepared[-1]["n"] = len(items) + prepared[-1]["more"]
    page = render_page(prepared, title=title, intro=intro, decisions_name=name, size=size, review=review)
    return write_text(folder / "index.html", page, atomic=atomic)


def dedup_with_gallery(emb: Any, out: Any, **options: Any) -> Any:
    """:func:`curate.pipeline.dedup.run_dedup` (``options`` are its keywords) with this module's writer for
    ``gallery=True`` (the duplicate groups as a review gallery in ``out/gallery/``); returns the run."""
    from curate.pipeline.dedup import run_dedup

    return run_dedup(emb, out, gallery_writer=write_review_gallery, **options)
