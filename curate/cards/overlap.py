"""The datasheet's *Overlap with other datasets* section, from a ``curate overlap`` summary.

Prints the view :func:`curate.pipeline.overlap.card_overlap` gathered (image counts are measures of the
datasets' files; patient counts arrive already protected by the exit gate of ``curate overlap``).
"""

from __future__ import annotations

from typing import Any

TITLE = "Overlap with other datasets"


def overlap_section(view: dict[str, Any]) -> Any:
    """The section (a :class:`curate.cards.context.Section`) rendered from ``view``."""
    from curate.cards._render import render
    from curate.cards.context import Section

    text = render("_overlap.md.j2", v=view)
    return Section(TITLE, text.rstrip("\n"))
