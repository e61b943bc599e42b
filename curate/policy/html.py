"""HTML safety: Markdown → HTML with raw HTML escaped and link schemes allow-listed; one Jinja setup.

Why: cards, reports and model cards quote text curate did not write — catalog records (``name``,
``institutions``, ``citation``, reference URLs), metadata values, user sections. Python-Markdown has no safe
mode: it passes raw HTML through and turns ``[x](javascript:…)`` into a live link. Here the Markdown parser
runs without its raw-HTML block and inline processors (so ``<script>`` and ``<img onerror=…>`` are
escaped text), and a tree processor turns every link or image whose URL scheme is not ``http``, ``https``,
``mailto`` or ``doi`` (relative links are fine) into plain text. The scheme is checked the way a browser
reads it: after decoding character references (``jav&#x61;script:``) and removing the tab, newline,
control and invisible characters a browser ignores (``java\\tscript:``), case-insensitively.

Every HTML template is rendered with Jinja autoescaping (:func:`jinja_env`); :func:`safe_url` is the
filter for ``href``/``src`` values in templates.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from typing import Any

#: URL schemes that may appear in a link or image of any HTML file curate writes.
ALLOWED_SCHEMES: tuple[str, ...] = ("http", "https", "mailto", "doi")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
#: Elements Python-Markdown (with the tables and sane_lists extensions) produces; anything else is a bug.
ALLOWED_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre",
                          "blockquote", "ul", "ol", "li", "a", "img", "hr", "br", "table", "thead", "tbody",
                          "tr", "th", "td", "span"})
#: The only scripts an HTML file curate writes may hold, by the SHA-256 of their exact text (an inline
#: ``<script>`` without attributes): the review gallery's decisions script
#: (:data:`curate.report.gallery.REVIEW_SCRIPT`, which reads the page's own data-* attributes and holds no
#: data). Changing that script means changing its digest here; a test checks the two agree.
ALLOWED_SCRIPTS: dict[str, str] = {
    "7b58aedca781fd4ae2ce59d5e89ba43a95f86ddd93316c9fb6a61082a352e801":
        "curate.report.gallery.REVIEW_SCRIPT (review gallery: decisions.csv)",
}
ALLOWED_ATTRS = frozenset({"href", "src", "alt", "title", "align", "style", "start"})


def _browser_view(url: str) -> str:
    """The URL as a browser parses its scheme: references decoded, ignored characters removed."""
    u = str(url)
    for _ in range(4):  # nested references (&amp;#x61;) decode one level per attribute read; be generous
        decoded = _html.unescape(u)
        if decoded == u:
            break
        u = decoded
    return "".join(ch for ch in u if ord(ch) > 0x20 and ord(ch) != 0x7F
                   and unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp"))


def url_allowed(url: str | None) -> bool:
    """True for http/https/mailto/doi and relative URLs; False for every other scheme, however spelt.

    >>> url_allowed("https://example.org"), url_allowed("jav&#x61;script:alert(1)"), url_allowed("a/b.md")
    (True, False, True)
    """
    if url is None:
        return False
    m = _SCHEME.match(_browser_view(url))
    return m is None or m.group(1).lower() in ALLOWED_SCHEMES


def safe_url(url: Any) -> str:
    """The URL when allowed, else ``""`` (Jinja filter: ``{% set u = x | safe_url %}{% if u %}…``)."""
    if url is None or url == "":
        return ""
    return str(url) if url_allowed(str(url)) else ""


def _neutralise(element: Any) -> None:
    """Turn a link or image with a forbidden URL into plain text (an attribute-less span)."""
    alt = element.get("alt") if element.tag == "img" else None
    for key in list(element.attrib):
        del element.attrib[key]
    if element.tag == "img":
        element.text = alt or ""
    element.tag = "span"


def _sanitising_extension():
    import markdown
    from markdown.treeprocessors import Treeprocessor
    from markdown.util import AMP_SUBSTITUTE

    class _Links(Treeprocessor):
        def run(self, root):  # type: ignore[override]
            for el in list(root.iter()):
                for attr in ("href", "src"):
                    if attr in el.attrib:
                        value = el.get(attr).replace(AMP_SUBSTITUTE, "&")
                        if not url_allowed(value):
                            _neutralise(el)
                            break
                for key in [k for k in el.attrib if k not in ALLOWED_ATTRS]:
                    del el.attrib[key]  # never an on* handler, whatever produced it
            return None

    class _Safe(markdown.Extension):
        def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown's API)
            md.preprocessors.deregister("html_block")  # raw HTML blocks become escaped text
            md.inlinePatterns.deregister("html")  # inline tags too
            md.treeprocessors.register(_Links(md), "curate_links", 1)  # after 'inline', before 'unescape'

    return _Safe()


def markdown_to_html(text: str) -> str:
    """Markdown → HTML fragment with raw HTML escaped and only allow-listed link/image schemes.

    >>> markdown_to_html('<script>x</script> [a](javascript:alert(1))')
    '<p>&lt;script&gt;x&lt;/script&gt; <span>a</span></p>'
    """
    import markdown

    return markdown.markdown(text, extensions=["tables", "sane_lists", _sanitising_extension()],
                             output_format="html")


def jinja_env(loader: Any, **kwargs: Any):
    """A Jinja environment that autoescapes every ``.html``/``.html.j2``/``.htm``/``.xml`` template and
    has the ``safe_url`` filter; ``kwargs`` go to :class:`jinja2.Environment`."""
    import jinja2

    from curate._cache import jinja_bytecode_cache

    kwargs.setdefault("bytecode_cache", jinja_bytecode_cache())
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2"),
                                            default_for_string=False, default=False),
        **kwargs,
    )
    env.filters["safe_url"] = safe_url
    return env


def script_digest(text: str) -> str:
    """SHA-256 (hex) of a script's exact text, as :data:`ALLOWED_SCRIPTS` lists it."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unsafe_markup(document: str) -> list[str]:
    """Live-markup problems in an HTML document: script/iframe/object/embed elements, ``on*`` handlers, and
    ``href``/``src``/``action``/``formaction`` with a forbidden scheme (the exit gate's HTML check).

    The one exception is an inline ``<script>`` element without attributes whose exact text is one of
    curate's own fixed scripts (:data:`ALLOWED_SCRIPTS`, by SHA-256): any other script — with ``src`` or any
    attribute, self-closed, unclosed, or with one character changed — is a problem."""
    from html.parser import HTMLParser

    problems: list[str] = []

    class _P(HTMLParser):
        script: list[str] | None = None

        def handle_starttag(self, tag, attrs):  # type: ignore[override]
            if tag == "script" and not attrs and self.script is None:
                self.script = []  # judged at its end tag, by the digest of its text
                return
            live = ("script", "iframe", "object", "embed", "frame", "frameset", "base", "form")
            if tag in live or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
                problems.append(f"<{tag}>")
            for k, v in attrs:
                if k.startswith("on"):
                    problems.append(f"<{tag} {k}=…>")
                inline_png = tag == "img" and (v or "").startswith("data:image/png;base64,")
                if k in ("href", "src", "action", "formaction", "xlink:href") and v is not None \
                        and not inline_png and not url_allowed(v):
                    problems.append(f"<{tag} {k}={v!r}>")

        def handle_startendtag(self, tag, attrs):  # type: ignore[override]
            if tag == "script":  # <script/> opens a script in a browser: never curate's own
                problems.append("<script/>")
            self.handle_starttag(tag, attrs)
            if tag == "script":
                self.script = None

        def handle_data(self, data):  # type: ignore[override]
            if self.script is not None:
                self.script.append(data)

        def handle_endtag(self, tag):  # type: ignore[override]
            if tag == "script" and self.script is not None:
                if script_digest("".join(self.script)) not in ALLOWED_SCRIPTS:
                    problems.append("<script> (not one of curate's fixed scripts)")
                self.script = None

    parser = _P(convert_charrefs=True)
    parser.feed(document)
    parser.close()
    if parser.script is not None:
        problems.append("<script> (unclosed)")
    return problems
