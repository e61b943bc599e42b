"""Datasheet (Gebru et al., *Datasheets for Datasets*, CACM 2021) as Markdown and standalone HTML.

The seven sections of the paper (motivation, composition, collection process, preprocessing/cleaning/
labeling, uses, distribution, maintenance) plus a Representation section; the questions live in
``templates/datasheet.md.j2`` and each answer comes from the card model with its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.cards._render import render

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.context import CardContext

#: Section headings in order (tests and the docs rely on these titles).
SECTIONS: tuple[str, ...] = (
    "1. Motivation",
    "2. Composition",
    "3. Collection process",
    "4. Preprocessing, cleaning and labeling",
    "5. Uses",
    "6. Distribution",
    "7. Maintenance",
    "8. Representation",
)


def render_datasheet(ctx: CardContext) -> str:
    """The datasheet as Markdown."""
    return render("datasheet.md.j2", ctx=ctx, ds=ctx.dataset)


def datasheet_html(markdown_text: str, title: str) -> str:
    """Standalone HTML page of a Markdown datasheet (tables kept; no external assets).

    The Markdown quotes catalog records and metadata values: raw HTML in it is escaped and links with a
    scheme other than http(s)/mailto/doi become text (:func:`curate.policy.html.markdown_to_html`)."""
    from markupsafe import Markup

    from curate._version import __version__
    from curate.cards._render import env
    from curate.policy.html import markdown_to_html

    body = Markup(markdown_to_html(markdown_text))  # sanitised: the autoescaping template keeps it as is
    return env().get_template("datasheet.html.j2").render(body=body, title=title, version=__version__)
