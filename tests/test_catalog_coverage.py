"""`curate catalog coverage`: the count of answered datasheet questions equals what the datasheet prints."""

from __future__ import annotations

import json
import re
from statistics import median

from curate import catalog
from curate.cards.context import NOT_REPORTED, build_context
from curate.cards.datasheet import render_datasheet

_QUESTION = re.compile(r"^\*\*(?P<q>[^*]+\?)\*\*(?P<rest>.*)$")


def rendered_questions(md: str) -> dict[str, bool]:
    """Independent oracle: parse the rendered Markdown; a question is answered when its block (up to the
    next bold line or heading) carries at least one citation ``(source: …``."""
    out: dict[str, bool] = {}
    current: str | None = None
    block: list[str] = []
    for line in [*md.splitlines(), "## end"]:
        m = _QUESTION.match(line)
        if m or line.startswith(("## ", "**")):
            if current is not None:
                out[current] = "(source:" in "\n".join(block)
            current, block = (m["q"], [m["rest"]]) if m else (None, [])
        elif current is not None:
            block.append(line)
    return out


def test_coverage_counts_what_every_datasheet_prints():
    cat = catalog.load()
    for ds in cat:
        ctx = build_context(ds, cat)
        rendered = rendered_questions(render_datasheet(ctx))
        assert list(rendered) == [q.text for q in ctx.questions.values()], ds.id
        cov = ctx.coverage()
        assert cov["datasheet_total"] == len(rendered) == 38
        assert cov["datasheet_answered"] == sum(rendered.values()), ds.id
        unanswered = [q.text for q in ctx.questions.values() if not q.answered]
        assert unanswered == [t for t, ok in rendered.items() if not ok], ds.id


def test_unanswered_questions_say_not_reported():
    cat = catalog.load()
    md = render_datasheet(build_context(cat.get("BRSET"), cat))
    for line in md.splitlines():
        m = _QUESTION.match(line)
        if m and m["q"] == "Were any ethical review processes conducted?":
            assert m["rest"].strip() == f"*{NOT_REPORTED}.*"  # BRSET's sources read so far say nothing


def test_brset_answers_its_new_questions_with_primary_citations():
    cat = catalog.load()
    ctx = build_context(cat.get("BRSET"), cat)
    q = ctx.questions
    for key in ("purpose", "splits", "acquired", "timeframe", "preprocessing", "updated", "other_tasks"):
        assert q[key].answered, key
    md = render_datasheet(ctx)
    assert "Canon CR2 (65.1%); Nikon NF5050 (34.9%)" in md and "*(source: nakayama2024, Abstract)*" in md
    assert "female 61.8%" in md
    assert ctx.coverage()["datasheet_answered"] >= 20


def test_cli_coverage_json_and_median(cli):
    res = cli("catalog", "coverage", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    rows = {r["id"]: r for r in data["datasets"]}
    assert len(rows) == len(catalog.load())
    cat = catalog.load()
    brset = build_context(cat.get("BRSET"), cat)
    assert rows["BRSET"]["datasheet_answered"] == sum(rendered_questions(render_datasheet(brset)).values())
    assert data["median_datasheet_fraction"] == median(r["datasheet_answered"] / 38 for r in rows.values())
    text = cli("catalog", "coverage")
    assert text.exit_code == 0 and "Catalog median: datasheet" in text.stdout


def test_auditable_rule_by_hand():
    """The audit rule on hand-made coverage rows: all three STANDING items and half the datasheet."""
    from curate.cards.coverage import auditable

    base = {"datasheet_answered": 19, "datasheet_total": 38, "standing_unanswered": ["ethics", "deid"]}
    assert auditable(base) == (True, [])
    assert auditable({**base, "datasheet_answered": 18}) == (False, ["datasheet < 50%"])
    assert auditable({**base, "standing_unanswered": ["distribution"]}) == (False, ["distribution"])


def test_report_lists_which_datasets_are_documented_well_enough_to_audit():
    from curate.cards.coverage import catalog_coverage
    from curate.report.report import build_report

    cat = catalog.load()
    cov = catalog_coverage(cat)
    md = build_report(fmt="md", catalog=cat, map_link="map.svg")
    sec = md.split("## Which datasets are documented well enough to audit", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in sec.splitlines() if ln.startswith("| ") and not ln.startswith("| Dataset")]
    assert len(rows) == len(cat)
    yes = [r.split("|")[1].strip() for r in rows if r.split("|")[4].strip() == "yes"]
    assert sorted(yes) == sorted(r["id"] for r in cov["datasets"] if r["auditable"])
    assert f"**{len(yes)} of {len(cat)}**" in sec
