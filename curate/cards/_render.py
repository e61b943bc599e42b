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


def _labelled(q: Any) -> str:
    """The labelled sub-answers of a question that are reported, one list item each (or nothing)."""
    lines = [f"- {a.label}: {_answer(a)}" for a in q.answers if a.label and a.reported]
    return ("\n" + "\n".join(lines)) if lines else ""


def _qa(q: Any) -> str:
    """A whole question's answer: its unlabelled answers inline, its labelled ones as list items; the
    not-reported line when none of them is reported (the same rule as ``Question.answered``)."""
    if not q.answered:
        return _answer(None)
    inline = " ".join(_answer(a) for a in q.answers if a.reported and not a.label)
    return inline + _labelled(q)


def _value(v: Any) -> str:
    """A raw catalog value for a table: integers with thousands separators, lists joined."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


@lru_cache(maxsize=1)
def env():
    import jinja2

    from curate.policy.html import jinja_env

    e = jinja_env(  # Markdown templates render verbatim; every *.html.j2 template is autoescaped
        jinja2.FileSystemLoader(str(TEMPLATES)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    e.filters["answer"] = _answer
    e.filters["cell"] = _cell
    e.filters["qa"] = _qa
    e.filters["labelled"] = _labelled
    e.filters["value"] = _value
    e.filters["fraction"] = fmt_fraction
    return e


def render(template: str, **kwargs: Any) -> str:
    text = env().get_template(template).render(**kwargs)
    # collapse runs of blank lines left by optional blocks: stable, readable Markdown
    # and give every list and table a blank line before it (Python-Markdown needs one; GitHub does not care)
    out: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        for start in ("- ", "| "):
            if line.startswith(start) and out and out[-1] and not out[-1].startswith(start):
                out.append("")
        out.append(line)
    return "\n".join(out).strip() + "\n"
