"""The *Known issues* section of the datasheet and the hub card, from a ``curate inspect`` run.

Renders :class:`curate.pipeline.known_issues.KnownIssues` (read and checked by the pipeline; counts as the
exit gate protected them in ``summary.json``) and answers the Datasheets question "Are there any errors,
sources of noise, or redundancies in the dataset?" (Gebru et al. 2021, Composition) from that measurement.
It computes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.context import Section
    from curate.pipeline.known_issues import KnownIssues

TITLE = "Known issues"


def _n(value: Any) -> str:
    """A count as shown: ``1,234``, ``<11``, ``*``; ``—`` when absent."""
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _num(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    text = format(value, fmt)
    return text.replace("-", "").replace("+", "") if float(text) == 0 else text  # no "-0.000"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def known_issues_section(ki: KnownIssues) -> Section:
    """The section's Markdown and its answer to the datasheet's "errors" question."""
    from curate.cards.context import Section
    from curate.cards.model import Answer
    from curate.policy.disclosure import SUPPRESSION_NOTE

    lines = [f"Measured by `curate inspect` (output folder `{ki.source}`, summary.json sha256 "
             f"`{ki.sha256[:12]}`); see docs/inspect.md for each check. Counts are images (files for the "
             "image-file checks); an image may have several issues. " + SUPPRESSION_NOTE + "."]
    if ki.synthetic:
        lines[:0] = ["**Synthetic data**: these counts describe generated data, not the real dataset.", ""]
    if ki.rows:
        lines += ["", "| check | issue | images flagged | images checked |", "| --- | --- | --- | --- |"]
        lines += [f"| {_cell(r.check)} | {_cell(r.issue)} | {_n(r.flagged)} | {_n(r.checked)} |"
                  for r in ki.rows]
    if ki.shortcuts:
        lines += ["", "Shortcuts (can the attribute be read off the embeddings within each label class, and "
                  "is it linked to the label?):", "",
                  "| attribute | verdict | within-label AUC | p | held-out drop |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {_cell(s['attribute'])} | {_cell(s['verdict'])} | "
                  f"{_num(s['within_label_auc'], '.2f')} | {_num(s['permutation_p'], '.3f')} | "
                  f"{_num(s['held_out_drop'], '+.3f')} |"
                  for s in ki.shortcuts]
    if ki.notes:
        lines += ["", "Notes:", "", *[f"- {_cell(n)}" for n in ki.notes]]
    found = [f"{r.issue} {_n(r.flagged)}" for r in ki.rows if r.flagged != 0]
    text = ("Yes, measured: " + "; ".join(found) if found else "None found by the checks that were run")
    text += f" (see *{TITLE}*)"
    answer = Answer(text, f"measured by curate inspect, `{ki.source}`")
    biases = [f"{s['attribute']} is {s['verdict']} in the embeddings (shortcut check of curate inspect)"
              for s in ki.shortcuts if s.get("verdict") not in (None, "none")]
    return Section(TITLE, "\n".join(lines), rai_biases=biases, answers={"errors": answer})
