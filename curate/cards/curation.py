"""The "Curation" section of the datasheet and the hub card: a template over the engine's findings.

The engine runs once in :func:`curate.pipeline.curation.run_curation` (build-card calls it and passes the
result in); this module only renders ``Findings.view`` with ``templates/_curation.md.j2``. It computes
nothing and never sees an identifier value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.pipeline.curation import IDENTICAL_COSINE, CurationOptions, Findings

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.context import Section

TITLE = "Curation"

__all__ = ["IDENTICAL_COSINE", "TITLE", "CurationOptions", "Findings", "curation_section"]


def curation_section(findings: Findings) -> Section:
    """The Curation section's Markdown, rendered from the findings' precomputed view."""
    from curate.cards._render import render
    from curate.cards.context import Section
    from curate.policy.disclosure import SUPPRESSION_NOTE

    text = render("_curation.md.j2", v=findings.view, suppression_note=SUPPRESSION_NOTE)
    return Section(TITLE, text.rstrip("\n"))
