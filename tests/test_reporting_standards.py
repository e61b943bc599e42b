"""TRIPOD+AI and MINIMAR coverage (issue 32): the item numbers are the standards' own, and each item is
answered exactly when the catalog record holds a sourced fact for it.

Independent truth: the item numbers as printed in TRIPOD+AI's checklist (Collins et al., BMJ 2024;385:e078378,
Table 1) and MINIMAR's Table 1 (Hernandez-Boussard et al., JAMIA 2020), typed here from the standards; and
the record's own fields read directly (not through the card model).
"""

from __future__ import annotations

import json

import pytest

from curate import catalog
from curate.cards.context import build_context
from curate.cards.datasheet import render_datasheet
from curate.cards.questions import MINIMAR, TRIPOD_AI

TRIPOD_AI_ITEMS = {"1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "6c", "7", "8a", "8b", "8c", "9a",
                   "9b", "9c", "10", "11", "12a", "12b", "12c", "12d", "12e", "12f", "12g", "13", "14", "15",
                   "16", "17", "18a", "18b", "18c", "18d", "18e", "18f", "19", "20a", "20b", "20c", "21",
                   "22", "23a", "23b", "24", "25", "26", "27a", "27b", "27c"}
MINIMAR_ITEMS = {"1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3", "3.4",
                 "3.5", "3.6", "3.7", "3.8", "4.1", "4.2", "4.3", "4.4"}


def test_item_numbers_are_the_standards_own():
    assert len(TRIPOD_AI_ITEMS) == 52 and len(MINIMAR_ITEMS) == 21
    assert {k for k, _, _ in TRIPOD_AI} <= TRIPOD_AI_ITEMS
    assert {k for k, _, _ in MINIMAR} <= MINIMAR_ITEMS
    # the model items are left out: a dataset record cannot answer them
    assert not {k for k, _, _ in TRIPOD_AI} & {"9a", "12c", "15", "22", "23a"}
    assert not {k for k, _, _ in MINIMAR} & {"3.1", "3.5", "3.6", "4.1", "4.2", "4.3"}


def _attr(ds, name):
    return ds.population is not None and name in ds.population.attributes


@pytest.mark.parametrize("rid", sorted(catalog.load().ids))
def test_items_answered_exactly_when_the_record_has_the_fact(rid):
    cat = catalog.load()
    ds = cat.get(rid)
    ctx = build_context(ds, cat)
    tri, mini = ctx.standards["tripod_ai"], ctx.standards["minimar"]
    assert tri["5b"].answered == (ds.years_collected is not None)
    assert tri["6b"].answered == (ds.inclusion_criteria is not None or ds.exclusion_criteria is not None)
    assert tri["17"].answered == (ds.ethics is not None and (ds.ethics.irb or ds.ethics.consent) is not None)
    assert tri["18a"].answered == (ds.funding is not None)
    assert tri["18f"].answered == (ds.software is not None)
    assert mini["2.2"].answered == _attr(ds, "sex")
    assert mini["2.3"].answered == _attr(ds, "race")
    assert mini["2.1"].answered == (ds.age is not None or _attr(ds, "age"))
    assert mini["3.3"].answered == (ds.official_splits is not None)
    cov = ctx.coverage()
    assert cov["tripod_ai_total"] == len(TRIPOD_AI) and cov["minimar_total"] == len(MINIMAR)
    assert cov["tripod_ai_answered"] == sum(q.answered for q in tri.values())


def test_datasheet_prints_the_coverage_table():
    cat = catalog.load()
    ctx = build_context(cat.get("BRSET"), cat)
    md = render_datasheet(ctx)
    rows = {st["name"]: st for st in ctx.standards_table()}
    for name in ("STANDING Together", "TRIPOD+AI", "MINIMAR"):
        st = rows[name]
        assert f"| {name} | {st['answered']}/{st['total']} |" in md
    # BRSET reports sex and age but no race (its sources name no race attribute)
    assert "2.3 Race of the patients" in md and "2.2 Sex" not in md


def test_catalog_coverage_command_reports_both_standards(cli):
    r = cli("catalog", "coverage", "--json")
    assert r.exit_code == 0, r.stderr
    cov = json.loads(r.stdout)
    assert {"median_tripod_ai_fraction", "median_minimar_fraction"} <= set(cov)
    row = next(x for x in cov["datasets"] if x["id"] == "BRSET")
    assert row["tripod_ai_total"] == len(TRIPOD_AI) and "minimar_unanswered" in row
    r = cli("catalog", "coverage")
    assert "TRIPOD+AI" in r.stdout and "MINIMAR" in r.stdout
