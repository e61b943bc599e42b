"""Shared Jinja2 environment and filters for the card templates (``curate/cards/templates``).

The templates own the prose and layout; code only fills fields. Filters turn an :class:`Answer` into
Markdown with its inline citation, so every template cites the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.cards.context import NOT_REPORTED, Answer, fmt_fraction

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _answer(a: Answer | None, empty: str | None = None) -> str:
    """``16,266 *(source: queiroz2025, Table 1)*`` or ``*Not reported by the source.*``."""
    if a is None or not a.reported:
        return f"*{empty or NOT_REPORTED}.*"
    out = str(a.text)
    if a.printed:
        out += f" (printed as “{a.printed}”)"
    if a.source:
        out += f" *(source: {a.source})*"
    if a.conflicts:
        out += " ⚠ **Sources disagree:** " + "; ".join(a.conflicts) + "."
    return out


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


@lru_cache(maxsize=1)
def env():
    import jinja2

    e = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # Markdown output; the HTML wrapper escapes explicitly
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    e.filters["answer"] = _answer
    e.filters["cell"] = _cell
    e.filters["fraction"] = fmt_fraction
    return e


def render(template: str, **kwargs: Any) -> str:
    text = env().get_template(template).render(**kwargs)
    # collapse runs of blank lines left by optional blocks: stable, readable Markdown
    lines, out, blank = text.splitlines(), [], 0
    for line in lines:
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"
