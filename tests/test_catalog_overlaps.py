"""Measured lineage (issue 28): ``overlaps`` in the schema, images counted once along it (hand-worked), the
licence guard bound by it end to end, ``catalog show`` saying which kind of lineage it is, and
``catalog add-overlap`` writing into a user's folder only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hub_fixtures import RecordingApi
from test_policy_terms import _images, _images_in

from curate.catalog import builtin_dir, load
from curate.errors import LicenceError

SRC = {"source": "gen"}
REFS = {"gen": {"title": "Generated for the curate measured-lineage tests", "year": 2026}}


def _ov(dataset: str, share: float, tier: str = "perceptual", **kw) -> dict:
    return {"dataset": dataset, "share": share, "tier": tier, "method": "curate overlap 0.9",
            "date": "2026-12-07", "evidence": "runs/overlap/summary.json", **kw}


def _rec(rid: str, images: int, *, licence: str = "CC-BY-4.0", overlaps=None, derived_from=None,
         country: str = "BRA") -> dict:
    rec = {"id": rid, "name": f"Generated {rid}", "modality": {"value": ["fundus"], **SRC},
           "anatomy": {"value": "eye", **SRC}, "countries": {"value": [country], **SRC},
           "demographics_reported": {"value": [], **SRC}, "licence": {"value": licence, **SRC},
           "images": {"value": images, **SRC}, "references": REFS}
    if overlaps is not None:
        rec["overlaps"] = overlaps
    if derived_from is not None:
        rec["derived_from"] = {"value": derived_from, **SRC}
    return rec


def _write(folder: Path, *recs: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rec in recs:
        (folder / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec, sort_keys=False), encoding="utf-8")
    return folder


# ------------------------------------------------------------------------------------------------ schema
def test_validate_names_each_bad_overlap_once(cli, tmp_path):
    folder = _write(tmp_path / "cat",
                    _rec("OV-A", 100),
                    _rec("OV-UNKNOWN", 10, overlaps=[_ov("NO-SUCH-SET", 0.2)]),
                    _rec("OV-RANGE", 10, overlaps=[_ov("OV-A", 1.5)]),
                    _rec("OV-TIER", 10, overlaps=[_ov("OV-A", 0.2, tier="hashes")]),
                    _rec("OV-SELF", 10, overlaps=[_ov("OV-SELF", 0.2)]),
                    _rec("OV-FINE", 10, overlaps=[_ov("BRSET", 0.2, "bytes"), _ov("OV-A", 0.0, "embedding")]))
    r = cli("catalog", "validate", "--catalog", folder)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert r.exit_code == 1
    assert len(lines) == 4, lines  # one line per problem, none for the valid record
    assert any("OV-UNKNOWN: overlaps[0].dataset: 'NO-SUCH-SET' is not a dataset in the catalog" in ln
               for ln in lines)
    assert any("OV-RANGE.yaml: overlaps.0.share" in ln and "less than or equal to 1" in ln for ln in lines)
    assert any("OV-TIER.yaml: overlaps.0.tier" in ln and "perceptual" in ln for ln in lines)
    assert any("OV-SELF: overlaps[0].dataset: 'OV-SELF' is the record itself" in ln for ln in lines)
    assert "Traceback" not in r.stdout + r.stderr


def test_a_valid_folder_with_overlaps_validates(cli, tmp_path):
    folder = _write(tmp_path / "cat", _rec("OV-A", 100), _rec("OV-B", 10, overlaps=[_ov("OV-A", 0.2)]))
    r = cli("catalog", "validate", "--catalog", folder)
    assert r.exit_code == 0, r.stdout + r.stderr


# ------------------------------------------------------------------------------------ count once, by hand
@pytest.fixture
def counted(tmp_path) -> Path:
    return _write(
        tmp_path / "count",
        _rec("CNT-A", 1000, overlaps=[_ov("CNT-C", 0.04, "bytes")]),             # 40 of A's images in C
        _rec("CNT-B", 200, overlaps=[_ov("CNT-A", 0.123, "perceptual"),          # 24.6 -> 24 found in A
                                     _ov("CNT-C", 0.10, "pixels"),               # 20 in C (not the largest)
                                     _ov("CNT-D", 0.90, "embedding")]),          # candidates: never counted
        _rec("CNT-C", 500, overlaps=[_ov("CNT-A", 0.10, "bytes")], country="NOR"),  # 50 of C's in A
        _rec("CNT-D", 300),
        _rec("CNT-E", 100, derived_from=["CNT-A"]),                               # stated: adds none
        _rec("CNT-F", 100, overlaps=[_ov("CNT-E", 0.5, "bytes")]),                # E counts none: F in full
    )


def test_count_once_along_measured_lineage_by_hand(counted):
    from curate.catalog.lineage import image_counts, lineage_kinds, lineage_summary, unique_total

    sub = load(counted).filter(where=lambda d: d.id.startswith("CNT-"))
    c = image_counts(sub)
    # by hand: C->A removes 50 (the largest); A->C (40) would close the cycle A->C->A: skipped, A in full;
    # B: its largest copy-tier share is 0.123 in A -> floor(24.6) = 24 removed; the embedding 0.90 ignored;
    # E: derived_from A, all its sources here -> 0; F: its images found in E, which counts none -> in full
    assert {k: v.images for k, v in c.items()} == {"CNT-A": 1000, "CNT-B": 176, "CNT-C": 450, "CNT-D": 300,
                                                   "CNT-E": 0, "CNT-F": 100}
    assert (c["CNT-B"].kind, c["CNT-B"].into, c["CNT-C"].into, c["CNT-E"].kind) == (
        "overlaps", "CNT-A", "CNT-A", "derived_from")
    assert unique_total(sub) == 1000 + 176 + 450 + 300 + 0 + 100
    assert lineage_kinds(sub) == ("derived_from", "overlaps")
    note = lineage_summary(sub)
    assert "Derived datasets (derived_from) count each image once (lineage stated by sources)" in note
    assert "Measured overlap (overlaps) counts shared images once (lineage measured" in note
    assert "CNT-B ~ CNT-A: 24 of its 200 images (12.3 %, perceptual tier) found in CNT-A" in note


def test_stats_map_and_report_use_measured_lineage(cli, counted):
    from curate.catalog.stats import catalog_stats
    from curate.pipeline.geo import country_table, entries_from_catalog
    from curate.report.report import report_context

    sub = load(counted).filter(where=lambda d: d.id.startswith("CNT-"))
    df = catalog_stats(sub, "country").set_index("key")
    assert df.loc["BRA", "images"] == 1000 + 176 + 300 + 0 + 100 and df.loc["NOR", "images"] == 450
    assert abs(df.loc["NOR", "image_share"] - 450 / 2026) < 1e-12
    table = country_table(entries_from_catalog(sub), split=False).set_index("alpha3")
    assert table.loc["NOR", "images"] == 450
    ctx = report_context(catalog=sub, fmt="md")
    assert ctx["totals"]["images"] == 2026
    assert "(overlaps, measured)" in ctx["note"] and "Measured overlap (overlaps)" in ctx["lineage"]
    # the CLI's JSON total says which kinds it used; only the test records are in this folder's selection
    r = cli("catalog", "stats", "--catalog", counted, "--json")
    total = json.loads(r.stdout)["total"]
    assert total["lineage_kinds"] == ["derived_from", "overlaps"]
    assert "CNT-C ~ CNT-A: 50 of its 500 images (10.0 %, bytes tier)" in total["lineage"]


def test_show_prints_measured_lineage_with_its_kind(cli, counted, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    r = cli("catalog", "show", "CNT-B", "--catalog", counted)
    out = " ".join(r.stdout.split())
    assert r.exit_code == 0, r.stderr
    assert "overlaps (measured) 12.3 % of its images found in CNT-A (perceptual tier; curate overlap 0.9, " \
           "2026-12-07) — evidence runs/overlap/summary.json" in out
    assert "found in CNT-D (embedding tier, candidates for review, not copies" in out
    e = " ".join(cli("catalog", "show", "CNT-E", "--catalog", counted).stdout.split())
    assert "derived from (stated) CNT-A" in e
    rec = json.loads(cli("catalog", "show", "CNT-B", "--json", "--catalog", counted).stdout)
    assert rec["overlaps"][0]["share"] == 0.123 and rec["overlaps"][0]["tier"] == "perceptual"
    assert {m["dataset"] for m in rec["lineage"]["measured"]["overlaps"]} == {"CNT-A", "CNT-C"}
    assert rec["lineage"]["stated"]["derived_from"] == []


def test_records_without_overlaps_say_none_was_recorded():
    assert load().get("BRSET").record()["overlaps"] is None


# ------------------------------------------------------------------------------ licence along measurement
@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Path:
    return _write(
        tmp_path_factory.mktemp("guard"),
        _rec("G-OPEN", 16, overlaps=[_ov("BRSET", 0.25, "pixels")]),         # holds BRSET images: card only
        _rec("G-ND", 16, licence="CC-BY-NC-ND-4.0", overlaps=[_ov("G-HOST", 0.5, "bytes")]),
        _rec("G-HOST", 16),                                                   # holds G-ND's images
        _rec("G-CAND", 16, overlaps=[_ov("BRSET", 0.9, "embedding")]),       # candidates only: no bound
        _rec("G-ZERO", 16, overlaps=[_ov("BRSET", 0.0, "bytes")]),           # measured, none found
        _rec("G-ELSE", 16, overlaps=[_ov("NOT-IN-CATALOG", 0.1, "bytes")]),  # terms unknown
        _rec("G-SRC", 16),                                                    # open original ...
        _rec("G-DER", 16, licence="CC-BY-NC-ND-4.0", derived_from=["G-SRC"],  # ... repackaged under ND
             overlaps=[_ov("G-SRC", 1.0, "bytes")]),
    )


@pytest.mark.parametrize("ds_id, images, decided_by", [
    ("G-OPEN", "refused", "BRSET (measured overlap: 25.0 % of this dataset's images found in BRSET"),
    ("G-HOST", "refused", "G-ND (measured overlap: 50.0 % of G-ND's images found in this dataset"),
    ("G-CAND", "allowed", "G-CAND"),
    ("G-ZERO", "allowed", "G-ZERO"),
    ("G-ELSE", "needs-rights", "NOT-IN-CATALOG (measured overlap)"),
    ("G-SRC", "allowed", "G-SRC"),  # a derivative stated to be built from it does not bind the original
    ("G-DER", "refused", "G-DER"),
])
def test_measured_lineage_bounds_the_licence(guarded, ds_id, images, decided_by):
    from curate.pipeline.guard import decision_for

    d = decision_for(load(guarded).get(ds_id))
    assert d.images == images, d
    assert d.decided_by.startswith(decided_by), d.decided_by


def test_open_set_holding_credentialed_images_is_card_only_end_to_end(tmp_path, guarded):
    from curate.cards.build import build_card
    from curate.publish.folder import publish

    meta, images = _images(tmp_path / "raw")
    api = RecordingApi()
    with pytest.raises(LicenceError, match=r"decided by BRSET \(measured overlap"):
        publish(dataset_id="G-OPEN", metadata=meta, images=images, out=tmp_path / "o", catalog_dir=guarded,
                splits="0.5,0.5", push="someone/x", api=api, i_have_rights=True)
    assert api.calls == []
    files = [p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*") if p.is_file()] \
        if (tmp_path / "o").exists() else []
    assert _images_in(files) == []
    res = build_card("G-OPEN", out=tmp_path / "card", catalog_dir=guarded)
    for key in ("datasheet_md", "hub_card"):
        text = " ".join(res.paths[key].read_text(encoding="utf-8").split())
        assert "decided by BRSET (measured overlap: 25.0 % of this dataset's images found in BRSET" in text, \
            key
        assert "card-only" in text, key


# ------------------------------------------------------------------------------------------- add-overlap
def test_add_overlap_edits_only_the_overlaps_block(cli, tmp_path):
    folder = _write(tmp_path / "mine", _rec("ADD-A", 100), _rec("ADD-B", 50))
    before = (folder / "ADD-B.yaml").read_text(encoding="utf-8")
    r = cli("catalog", "add-overlap", "ADD-B", "--catalog", folder, "--dataset", "add-a", "--share", "0.12",
            "--tier", "perceptual", "--evidence", "runs/o/summary.json", "--date", "2026-12-07")
    assert r.exit_code == 0, r.stderr
    after = (folder / "ADD-B.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)  # everything else kept byte for byte
    ds = load(folder).get("ADD-B")
    assert [(o.dataset, o.share, o.tier, o.method) for o in ds.overlaps] == [
        ("ADD-A", 0.12, "perceptual", "entered by hand (curate catalog add-overlap)")]
    # a new measurement for the same dataset and tier replaces the old one; others are kept
    cli("catalog", "add-overlap", "ADD-B", "--catalog", folder, "--dataset", "ADD-A", "--share", "0.2",
        "--tier", "perceptual", "--evidence", "x", "--measured-by", "curate overlap 1.0")
    cli("catalog", "add-overlap", "ADD-B", "--catalog", folder, "--dataset", "BRSET", "--share", "0.01",
        "--tier", "bytes", "--evidence", "x")
    ds = load(folder).get("ADD-B")
    assert [(o.dataset, o.share, o.method) for o in ds.overlaps] == [
        ("ADD-A", 0.2, "curate overlap 1.0"), ("BRSET", 0.01, "entered by hand (curate catalog add-overlap)")]
    assert cli("catalog", "validate", "--catalog", folder).exit_code == 0


def test_add_overlap_from_a_summary_copies_a_builtin_record(cli, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"method": "curate overlap 0.9", "date": "2026-12-06",
                                   "sizes": {"BRSET": 16266, "IDRiD": 516},
                                   "shares": [{"dataset": "BRSET", "in": "IDRiD", "tier": "bytes",
                                               "share": 0.001, "images": 16},
                                              {"dataset": "IDRiD", "in": "BRSET", "tier": "bytes",
                                               "share": 0.031, "images": 16}]}))
    builtin_before = (builtin_dir() / "BRSET.yaml").read_bytes()
    r = cli("catalog", "add-overlap", "BRSET", "--catalog", folder, "--summary", summary)
    assert r.exit_code == 0, r.stderr
    assert (builtin_dir() / "BRSET.yaml").read_bytes() == builtin_before
    assert (folder / "BRSET.yaml").read_text(encoding="utf-8").startswith(builtin_before.decode("utf-8"))
    ds = load(folder).get("BRSET")
    assert [(o.dataset, o.share, o.tier, o.images, o.evidence, str(o.date)) for o in ds.overlaps] == [
        ("IDRiD", 0.001, "bytes", 16, str(summary), "2026-12-06")]
    assert ds.licence_override is None  # the copy keeps the built-in record's terms


@pytest.mark.parametrize("args, message", [
    (["--tier", "hashes"], "tier"),
    (["--share", "1.5"], "share"),
    (["--dataset", "NO-SUCH-SET"], "not in the catalog"),
    (["--dataset", "ADD-B"], "ADD-B itself"),
])
def test_add_overlap_bad_input_is_one_line_and_writes_nothing(cli, tmp_path, args, message):
    folder = _write(tmp_path / "mine", _rec("ADD-A", 100), _rec("ADD-B", 50))
    before = (folder / "ADD-B.yaml").read_bytes()
    base = {"--dataset": "ADD-A", "--share": "0.1", "--tier": "bytes", "--evidence": "x"}
    base.update(dict(zip(args[::2], args[1::2])))
    r = cli("catalog", "add-overlap", "ADD-B", "--catalog", folder, *[x for kv in base.items() for x in kv])
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert message in lines[0]
    assert (folder / "ADD-B.yaml").read_bytes() == before


def test_add_overlap_refuses_the_builtin_folder(cli):
    before = (builtin_dir() / "BRSET.yaml").read_bytes()
    r = cli("catalog", "add-overlap", "BRSET", "--catalog", builtin_dir(), "--dataset", "IDRiD", "--share",
            "0.1", "--tier", "bytes", "--evidence", "x")
    assert r.exit_code != 0 and "is the built-in catalog" in r.stderr and "--builtin" in r.stderr
    assert (builtin_dir() / "BRSET.yaml").read_bytes() == before
