"""HTML safety, attacked: markup in every text field of a catalog record and in every metadata value must not
arrive live in any HTML file curate writes (datasheet.html of a card and of a hub folder, report.html,
model_card.html).

The oracle is independent of :mod:`curate.policy.html`: the standard library's ``html.parser`` reads each
file the way a browser tokenises it (attribute values with character references decoded), and a link is
judged by the URL scheme a browser would see after dropping the tab/newline/control characters it ignores.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from curate.policy.html import markdown_to_html, safe_url, url_allowed

ALLOWED = {"http", "https", "mailto", "doi"}
LIVE_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "frame", "frameset", "base", "form",
             "style", "link", "meta", "div", "b", "body"}  # in a datasheet body, none of these is ours

PAYLOADS = [
    '<script>alert("xss-script")</script>',
    "<img src=x onerror=alert('xss-img')>",
    "<svg onload=alert('xss-svg')>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">raw-anchor</a>',
    "<div onmouseover=alert(1)>hover</div>",
    "[click-js](javascript:alert(1))",
    "[click-entity](jav&#x61;script:alert(1))",
    "[click-decimal](&#106;avascript:alert(1))",
    "[click-case](JaVaScRiPt:alert(1))",
    "[click-tab](<java\tscript:alert(1)>)",
    "[click-space]( javascript:alert(1))",
    "[click-data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click-vb](vbscript:msgbox(1))",
    "![pic-js](javascript:alert(1))",
    "![pic-data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "</td></tr></table><script>alert('break-out')</script>",
    "<javascript:alert('autolink')>",
    "[ref-link][r]\n\n[r]: javascript:alert('reference')\n",
    "<a href='https://ok.org' onclick='alert(1)'>mixed</a>",
]


class _Oracle(HTMLParser):
    """Collects live markup: tags outside what a Markdown body holds, on* handlers, bad URL schemes."""

    def __init__(self, body_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.body_only = body_only
        self.scripts: list[str] = []  # text inside <script> elements
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag == "script" or (self.body_only and tag in LIVE_TAGS):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "srcdoc"):
                scheme = _browser_scheme(value or "")
                inline_png = tag in ("img", "image") and (value or "").startswith("data:image/png;base64,")
                if scheme is not None and scheme not in ALLOWED and not inline_png:
                    self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def _browser_scheme(url: str) -> str | None:
    """Scheme as a browser reads it (the parser already decoded references once; decode nested ones)."""
    u = url
    for _ in range(3):
        u = html.unescape(u)
    u = "".join(ch for ch in u if ord(ch) > 0x20 and ch not in "\u200b\u200c\u200d\u2060\ufeff\x7f")
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", u)
    return m.group(1).lower() if m else None


def live_markup(document: str, *, body_only: bool = False, own_scripts: bool = False) -> list[str]:
    """Problems found; with ``own_scripts`` a page's own inline scripts are allowed if no payload is in
    them (report.html sorts its tables with one)."""
    parser = _Oracle(body_only)
    parser.feed(document)
    problems = parser.problems
    if own_scripts:
        problems = [p for p in problems if p != "<script>"]
        problems += [f"payload in script: {s[:40]!r}" for s in parser.scripts if "alert(" in s or "xss" in s]
    return problems


def _body(page: str) -> str:
    return page[page.index("<body>") + len("<body>"):page.rindex("</body>")]


# ------------------------------------------------------------------------------------- the converter
@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_payload_is_not_live(payload):
    out = markdown_to_html(f"Some text {payload} and more.\n\n| a | b |\n| --- | --- |\n| {payload} | x |\n")
    assert live_markup(out, body_only=True) == [], out


def test_oracle_catches_what_plain_markdown_lets_through():
    """The oracle is not vacuous: python-markdown without curate's policy fails it on the same payloads."""
    import markdown

    caught = [p for p in PAYLOADS if live_markup(markdown.markdown(p, extensions=["tables"]), body_only=True)]
    assert len(caught) >= 12


@pytest.mark.parametrize("url", ["https://example.org/a?b=1&c=2", "http://x.org", "mailto:me@example.org",
                                 "doi:10.1000/182", "datasheet.md", "../cards/BRSET/datasheet.html",
                                 "#section-2"])
def test_allowed_links_stay_links(url):
    out = markdown_to_html(f"[here]({url})")
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert [html.unescape(h) for h in hrefs] == [url]
    assert url_allowed(url) and safe_url(url) == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "java\tscript:alert(1)",
                                 "java\nscript:x", "jav&#x61;script:x", "&#x6A;avascript:x",
                                 "jav&amp;#x61;script:x", "data:text/html,x", "vbscript:x", "file:///etc/passwd",
                                 "java\u200bscript:x"])
def test_forbidden_schemes_are_refused(url):
    assert not url_allowed(url) and safe_url(url) == ""


def test_escaped_text_stays_visible():
    out = markdown_to_html("<script>alert(1)</script> [x](javascript:alert(1))")
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert "<script>alert(1)</script>" in text and "x" in text  # shown as text, not executed or dropped


# ----------------------------------------------------------------------------------- catalog records
def _hostile_record(payload: str, ds_id: str = "HOSTILE") -> dict:
    return {
        "id": ds_id,
        "name": f"Hostile {payload}",
        "aliases": [f"alias-{ds_id}"],
        "description": f"Description {payload}",
        "modality": {"value": ["fundus"], "source": "src", "locator": f"loc {payload}",
                     "as_printed": f"printed {payload}"},
        "anatomy": {"value": f"eye {payload}", "source": "src", "note": f"note {payload}"},
        "countries": {"value": ["BRA"], "source": "src"},
        "institutions": [f"Institute {payload}"],
        "images": {"value": 500, "source": "src"},
        "labels": [f"label {payload}"],
        "demographics_reported": {"value": ["age", "sex"], "source": "src"},
        "licence": {"value": f"CC-BY-4.0 {payload}", "source": "src", "as_printed": f"lic {payload}"},
        "language": ["en"],
        "url": "javascript:alert('record-url')",
        "doi": f"10.1/{payload}",
        "citation": f"Citation {payload}",
        "references": {"src": {"title": f"Paper {payload}", "authors": f"Author {payload}", "year": 2025,
                               "url": "javascript:alert('ref-url')"}},
        "conflicts": [{"field": "images", "value": 7, "source": "src", "note": f"conflict {payload}"}],
        "notes": f"Notes {payload}",
    }


def _write_record(folder: Path, rec: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_every_record_field_is_not_live_in_the_datasheet(tmp_path, payload):
    from curate.cards.build import build_card

    catalog = _write_record(tmp_path / "cat", _hostile_record(payload))
    res = build_card("HOSTILE", out=tmp_path / "card", catalog_dir=catalog)
    page = res.paths["datasheet_html"].read_text(encoding="utf-8")
    assert live_markup(_body(page), body_only=True) == []
    assert live_markup(page) == []
    assert "record-url" in html.unescape(page)  # the URL is shown, as text


def test_markup_in_metadata_values_is_not_live(tmp_path):
    from curate.cards.build import build_card

    rows = []
    for i in range(22 * len(PAYLOADS)):  # every value 22 times: above any small-cell threshold
        p = PAYLOADS[i % len(PAYLOADS)]
        rows.append({"image_id": f"img{i}", "patient_id": f"p{i // 2}", "label": p, "sex": p, "site": p,
                     "device": p, "age": 40 + i % 30})
    meta = tmp_path / "meta.csv"
    pd.DataFrame(rows).to_csv(meta, index=False)
    catalog = _write_record(tmp_path / "cat", _hostile_record("<b>plain</b>"))
    res = build_card("HOSTILE", metadata=meta, out=tmp_path / "card", catalog_dir=catalog,
                     columns=["label=label", "sex=sex", "site=site", "device=device"])
    page = res.paths["datasheet_html"].read_text(encoding="utf-8")
    assert live_markup(_body(page), body_only=True) == []
    assert "xss-img" in html.unescape(page)  # the values reached the page, as text


def test_hub_folder_html_is_safe(tmp_path):
    """publish (card-only, with hostile metadata values): every .html in the folder is free of live markup."""
    from curate.publish.folder import publish

    rows = [{"image_id": f"img{i}", "patient_id": f"p{i}", "label": PAYLOADS[i % len(PAYLOADS)]}
            for i in range(40)]
    meta = tmp_path / "meta.csv"
    pd.DataFrame(rows).to_csv(meta, index=False)
    catalog = _write_record(tmp_path / "cat", _hostile_record(PAYLOADS[0]))
    out = tmp_path / "hub"
    publish("HOSTILE", metadata=meta, out=out, card_only=True, catalog_dir=catalog)
    pages = list(out.rglob("*.html"))
    assert pages
    for p in pages:
        assert live_markup(_body(p.read_text(encoding="utf-8")), body_only=True) == [], p


# ------------------------------------------------------------------------------------- report, model card
def test_report_html_has_no_javascript_link_and_escapes_names(tmp_path):
    from curate.catalog import load
    from curate.report import build_report

    catalog = _write_record(tmp_path / "cat", _hostile_record(PAYLOADS[0]))
    cat = load(catalog).filter(where=lambda d: d.id in ("HOSTILE", "BRSET"))
    page = build_report(fmt="html", catalog=cat)
    assert live_markup(page, own_scripts=True) == []
    assert "Hostile" in page  # the hostile record is in the report, escaped
    assert "<script>alert(\"xss-script\")" not in page
    md = build_report(fmt="md", catalog=cat)
    assert "](javascript:" not in md


def test_model_card_html_is_safe():
    """Group values with markup and a ``javascript:`` datasheet link: nothing live in model_card.html."""
    import numpy as np

    from curate.cards.modelcard import card_context, render_model_card
    from curate.pipeline.audit import audit

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "score_y": rng.random(n),
                          "group": rng.choice([PAYLOADS[0], PAYLOADS[1], PAYLOADS[2]], n)})
    result = audit(frame, label_cols="y", groups="group")
    ctx = card_context(result, dataset="BRSET", datasheet="javascript:alert('datasheet')",
                       model_name=PAYLOADS[3])
    md, page = render_model_card(ctx)
    assert live_markup(page) == []
    assert "alert(&#39;datasheet&#39;)" in page or "alert('datasheet')" in html.unescape(page)


def test_report_from_a_hostile_file_has_no_live_markup_in_text_or_svg(tmp_path):
    """A --from file whose name and dataset names carry markup: the inline SVG map and charts (matplotlib)
    and the tables escape them."""
    from curate.report import build_report

    src = tmp_path / "<svg onload=alert('file-name')>.csv"
    pd.DataFrame({"dataset": [PAYLOADS[0], PAYLOADS[1], PAYLOADS[6]], "country": ["BRA", "NGA", "IND"],
                  "images": [1000, 2000, 3000]}).to_csv(src, index=False)
    page = build_report(fmt="html", from_file=src)
    assert live_markup(page, own_scripts=True) == []
    assert "file-name" in html.unescape(page)  # the name is shown, as text
