"""Catalog schema, loading/merging, lookup and the catalog CLI's JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from curate import catalog
from curate.catalog import access_for_licence, builtin_dir, hf_license_id, validate_dir
from curate.errors import CatalogError, UnknownDatasetError

BRSET = builtin_dir() / "BRSET.yaml"


def _write(folder: Path, name: str, rec: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(rec, sort_keys=False, allow_unicode=True))
    return path


def _brset() -> dict:
    return yaml.safe_load(BRSET.read_text())


def _mine(**changes) -> dict:
    rec = _brset()
    rec.pop("schema_version")  # a hand-written v1 user record: loads without source types
    rec.update(id="MYSET", name="My own fundus set", aliases=["mine"], collections=[])
    rec["countries"] = {"value": ["KEN"], "source": "own", "locator": "p. 2"}
    rec["images"] = {"value": 1234, "source": "own"}
    rec["licence"] = {"value": "CC-BY-4.0", "source": "own"}
    rec.pop("use_terms")  # BRSET's terms are credentialed; MYSET's are derived from its own licence
    rec["references"]["own"] = {"title": "My dataset paper", "year": 2026, "url": "https://example.org/p"}
    rec.update(changes)
    return rec


def test_builtin_catalog_is_valid_and_brset_present():
    assert validate_dir(builtin_dir()) == []
    cat = catalog.load()
    ds = cat.get("brset")
    assert ds is cat.get("BRSET") or ds.id == cat.get("BRSET").id
    assert ds.access == "credentialed"
    assert ds.countries.value == ["BRA"]


def test_every_figure_has_a_resolvable_source():
    for ds in catalog.load():
        for field in catalog.FACT_FIELDS:
            fact = getattr(ds, field)
            if fact is not None:
                ref = ds.reference(fact.source)
                assert ref.title, (ds.id, field)
                assert ref.seed or ref.doi or ref.url, f"{ds.id}.{field}: source without doi/url/seed"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"images": {"value": "many", "source": "own"}}, "images.value"),
        ({"countries": {"value": ["XXY"], "source": "own"}}, "XXY"),
        ({"images": {"value": 10, "source": "nowhere"}}, "images.source: 'nowhere'"),
        ({"modality": {"value": ["xray-ish"], "source": "own"}}, "modality.value"),
        ({"access": "open", "licence": {"value": "CC-BY-NC-4.0", "source": "own"}}, "contradicts licence"),
        ({"unexpected_field": 1}, "unexpected_field"),
        ({"conflicts": [{"field": "name", "value": "x", "source": "own"}]}, "conflicts[0].field"),
    ],
)
def test_schema_errors_name_file_and_field(tmp_path, change, expected):
    path = _write(tmp_path, "MYSET", _mine(**change))
    problems = validate_dir(tmp_path)
    assert problems, "broken record must not validate"
    assert all(p.startswith(str(path)) for p in problems)
    assert any(expected in p for p in problems), problems


def test_malformed_yaml_and_missing_fields(tmp_path):
    (tmp_path / "BAD.yaml").write_text("id: BAD\nname: [unclosed\n")
    rec = _mine()
    del rec["licence"]
    _write(tmp_path, "MYSET", rec)
    problems = validate_dir(tmp_path)
    assert any("BAD.yaml" in p and "not valid YAML" in p and "line" in p for p in problems)
    assert any("MYSET.yaml" in p and "licence" in p and "Field required" in p for p in problems)
    with pytest.raises(CatalogError, match="BAD.yaml"):
        catalog.load(tmp_path)


def test_file_name_must_match_id(tmp_path):
    _write(tmp_path, "OTHER", _mine())
    assert any("does not match the file name" in p for p in validate_dir(tmp_path))


def test_user_catalog_merges_over_builtin(tmp_path, monkeypatch):
    _write(tmp_path, "MYSET", _mine())
    override = _brset()
    override["images"] = {"value": 99, "source": "nakayama2024", "locator": "Abstract",
                          "source_type": "primary"}
    _write(tmp_path, "BRSET", override)
    cat = catalog.load(tmp_path)
    assert cat.get("mine").id == "MYSET" and cat.get("MYSET").access == "open"
    assert cat.get("BRSET").images.value == 99
    assert len(cat) == len(catalog.load()) + 1
    monkeypatch.setenv("CURATE_CATALOG", str(tmp_path))
    assert "MYSET" in catalog.load()


def test_lookup_is_case_insensitive_and_suggests():
    cat = catalog.load()
    assert cat.get("  brset ").id == "BRSET"
    with pytest.raises(UnknownDatasetError) as exc:
        cat.get("BRST")
    assert "BRSET" in exc.value.suggestions
    assert str(exc.value) == "unknown dataset 'BRST' (did you mean BRSET?)"


def test_filter_and_frame():
    cat = catalog.load()
    fundus = cat.filter(modality="fundus")
    assert "BRSET" in fundus and all("fundus" in d.modalities for d in fundus)
    assert {d.id for d in cat.filter(country="Brazil")} == {d.id for d in cat.filter(country="BRA")}
    assert all(d.access == "credentialed" for d in cat.filter(access="credentialed"))
    frame = cat.to_frame()
    assert list(frame["id"]) == cat.ids
    assert frame.loc[frame.id == "BRSET", "images"].item() == 16266


def test_licence_classes_and_hub_ids():
    assert access_for_licence("CC0-1.0") == "open"
    assert access_for_licence("CC-BY-NC-SA-4.0") == "open-noncommercial"
    assert access_for_licence("PhysioNet Credentialed Health Data License 1.5.0") == "credentialed"
    assert access_for_licence("Stanford University School of Medicine Research Use Agreement") == "restricted"
    assert access_for_licence(None) == "unknown" and access_for_licence("whatever terms") == "unknown"
    assert hf_license_id("CC-BY-4.0") == "cc-by-4.0"
    assert hf_license_id("PhysioNet Credentialed Health Data License 1.5.0") == "other"


# ----------------------------------------------------------------------------- CLI
def test_cli_list_json_has_all_schema_fields(cli):
    r = cli("catalog", "list", "--json")
    assert r.exit_code == 0, r.stderr
    records = json.loads(r.stdout)
    cat = catalog.load()
    assert [x["id"] for x in records] == cat.ids
    fields = set(catalog.Dataset.model_fields)
    assert all(set(x) == fields for x in records)
    brset = next(x for x in records if x["id"] == "BRSET")
    assert brset["countries"]["value"] == ["BRA"] and brset["access"] == "credentialed"


def test_cli_list_filters_and_table(cli):
    r = cli("catalog", "list", "--modality", "fundus", "--json")
    assert all("fundus" in x["modality"]["value"] for x in json.loads(r.stdout))
    r = cli("catalog", "list", "--country", "BR")
    assert r.exit_code == 0 and "BRSET" in r.stdout
    r = cli("catalog", "list", "--modality", "xray-ish")
    assert r.exit_code == 2 and r.stderr.startswith("error: unknown modality 'xray-ish'")
    r = cli("catalog", "list", "--country", "Atlantis")
    assert r.exit_code == 1 and r.stderr.startswith("error: unknown country 'Atlantis'")


def test_cli_list_flags_conflicted_values(cli):
    """A value the record itself disputes (BHX printed as MRI, EyePACS under India) carries a dagger."""
    import re

    r = cli("catalog", "list")
    assert r.exit_code == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.strip()}
    assert re.search(r"\bmri †", rows["BHX"])
    assert re.search(r"\bIND †", rows["EyePACS"])
    assert "†" not in rows["BRSET"]  # BRSET's record holds no conflict
    assert "another source gives a different value" in r.stdout
    # the oracle: every dataset with a conflict on a listed field is flagged, and only those
    listed = {"modality", "countries", "images", "licence"}
    if "Patients" in r.stdout:
        listed.add("patients")
    for ds in catalog.load():
        disputed = any(c.field in listed for c in ds.conflicts)
        assert ("†" in rows[ds.id]) == disputed, ds.id


def test_cli_show_and_unknown_id(cli):
    r = cli("catalog", "show", "brset")
    assert r.exit_code == 0
    assert "16,266" in r.stdout and "queiroz2025, Table 1" in r.stdout and "PHDL" in r.stdout
    r = cli("catalog", "show", "BRSET", "--json")
    rec = json.loads(r.stdout)
    assert rec["images"]["value"] == 16266 and "queiroz2025" in rec["sources"]
    r = cli("catalog", "show", "BRST")
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: unknown dataset 'BRST' (did you mean BRSET?)"
    assert "Traceback" not in r.stderr + r.stdout


def test_cli_validate(cli, tmp_path):
    assert cli("catalog", "validate").exit_code == 0
    good = tmp_path / "good"
    _write(good, "MYSET", _mine())
    r = cli("catalog", "validate", "--catalog", good)
    assert r.exit_code == 0 and "1 catalog files valid" in r.stdout
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    _write(bad, "OTHER", _mine(id="OTHER", images={"value": -1.5, "source": "own"}))
    r = cli("catalog", "validate", "--catalog", bad)
    assert r.exit_code == 1
    lines = r.stdout.strip().splitlines()
    assert lines and all("OTHER.yaml" in line for line in lines)


def test_cli_stats_json_matches_records(cli):
    r = cli("catalog", "stats", "--by", "access", "--json")
    out = json.loads(r.stdout)
    records = catalog.load().records()
    ids = {rec["id"] for rec in records}
    expected: dict[str, int] = {}
    for rec in records:
        parents = (rec.get("derived_from") or {}).get("value") or []
        if parents and all(p in ids for p in parents):
            expected.setdefault(rec["access"], 0)
            continue  # a derived set's images are its sources' (counted once)
        expected[rec["access"]] = expected.get(rec["access"], 0) + ((rec["images"] or {}).get("value") or 0)
    assert {g["key"]: g["images"] for g in out["groups"]} == expected
    assert out["total"]["datasets"] == len(records)
    r = cli("catalog", "stats", "--by", "planet")
    assert r.exit_code == 2 and "--by must be one of" in r.stderr


def test_cli_user_catalog_option(cli, tmp_path):
    _write(tmp_path, "MYSET", _mine())
    r = cli("--catalog", tmp_path, "catalog", "show", "mine", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["id"] == "MYSET"
    r = cli("catalog", "show", "MYSET", "--catalog", tmp_path)
    assert r.exit_code == 0
    r = cli("catalog", "list", "--catalog", tmp_path / "missing")
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_version_and_help(cli):
    from curate import __version__

    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"curate {__version__}"
    r = cli("--help")
    assert r.exit_code == 0 and "catalog" in r.stdout


def test_stats_patients_missing_not_zero(tmp_path):
    from curate.catalog.stats import catalog_stats

    a = _mine()
    a.pop("patients", None)
    b = _mine(id="OTHER", aliases=[], patients={"value": 40, "source": "own"},
              countries={"value": ["BRA"], "source": "own"})
    _write(tmp_path, "MYSET", a)
    _write(tmp_path, "OTHER", b)
    df = catalog_stats(catalog.load(tmp_path, builtin=False), "country").set_index("key")
    assert df.loc["KEN", "patients_reported"] == 0 and df["patients"].isna()["KEN"]
    assert df.loc["BRA", "patients"] == 40 and df.loc["BRA", "patients_reported"] == 1


# ------------------------------------------------------------------------------------- schema v2 (issue 18)
def test_every_builtin_record_is_v2_with_typed_located_facts():
    from curate.catalog.sections import SOURCE_TYPES

    cat = catalog.load()
    assert len(cat) >= 120  # issue 20: the catalog shows the whole world
    for ds in cat:
        assert ds.schema_version == 2, ds.id
        for path, fact in ds.facts():
            assert fact.source_type in SOURCE_TYPES, (ds.id, path)
            assert fact.locator, (ds.id, path)
            assert fact.source in ds.references or fact.source in catalog.SEEDS, (ds.id, path)


def test_seed_source_types_follow_the_dataset_not_the_key():
    cat = catalog.load()
    assert cat.get("Harvard-FairVLMed").patients.source_type == "primary"  # luo2024 is its own paper
    assert cat.get("BRSET").modality.source_type == "secondary"  # queiroz2025 reviews BRSET
    assert cat.get("BUSI").licence.source_type == "mirror"  # a Hugging Face re-upload


@pytest.mark.parametrize("missing", ["source_type", "locator"])
def test_v2_fact_without_source_type_or_locator_fails(tmp_path, missing):
    rec = _brset()
    del rec["images"][missing]
    path = _write(tmp_path, "BRSET", rec)
    problems = validate_dir(tmp_path)
    assert any(p.startswith(str(path)) and "images" in p and missing in p for p in problems), problems


def test_v2_fact_with_unknown_source_fails_in_a_section(tmp_path):
    rec = _brset()
    rec["care_setting"] = {"value": "outpatient", "source": "nobody", "locator": "p. 1",
                           "source_type": "primary"}
    _write(tmp_path, "BRSET", rec)
    assert any("care_setting.source: 'nobody'" in p for p in validate_dir(tmp_path))


def test_migration_is_exact_and_idempotent(tmp_path):
    """Migrating the v1 text of a record gives exactly the oracle's record; a second run changes nothing."""
    from curate.catalog.migrate import expected, migrate_file

    text = BRSET.read_text(encoding="utf-8")
    v1 = "\n".join(x for x in text.split("\n") if not x.startswith(("schema_version:", "  source_type:")))
    v1 = v1.replace(", source_type: secondary", "").replace(", source_type: primary", "")
    raw = yaml.safe_load(v1)
    assert "schema_version" not in raw and "source_type" not in raw["images"]
    path = tmp_path / "BRSET.yaml"
    path.write_text(v1, encoding="utf-8")
    assert migrate_file(path) is True
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == expected(raw)
    assert migrate_file(path) is False
    assert validate_dir(tmp_path) == []


def test_cli_validate_notes_v1_records(cli, tmp_path):
    _write(tmp_path, "MYSET", _mine())
    res = cli("catalog", "validate", "--catalog", str(tmp_path))
    assert res.exit_code == 0 and "schema_version 1" in res.stdout


def test_brset_v2_facts_come_from_its_own_sources():
    """BRSET's acquisition, population, labelling and period cite its own paper or repository (primary),
    with a locator and the date they were re-read; the repository's camera name is kept as a conflict."""
    ds = catalog.load().get("BRSET")
    new = {p: f for p, f in ds.facts() if p.split(".")[0] in (
        "acquisition", "population", "care_setting", "labelling", "versions", "official_splits",
        "intended_uses", "years_collected", "age")}
    assert len(new) >= 15
    for path, fact in new.items():
        assert fact.source in ("nakayama2024", "brset_repo"), path
        # the paper's abstract could only be read in a re-hosted copy: mirror; the repository is primary
        want = "mirror" if fact.source == "nakayama2024" else "primary"
        assert fact.source_type == want and fact.locator and fact.checked is not None, path
    devices = ds.acquisition.devices.value
    assert [(d.manufacturer, d.share) for d in devices] == [("Canon", 0.651), ("Nikon", 0.349)]
    assert abs(sum(d.share for d in devices) - 1) < 1e-9
    assert ds.population.attributes["sex"].shares.value == {"female": 0.618}
    assert str(ds.years_collected.value) == "2010–2020"
    assert [c.field for c in ds.conflicts] == ["acquisition.devices"]
    assert ds.deidentification is None and ds.ethics is None  # not found in the sources read: absent


def test_mbrset_v2_facts_are_primary_and_checked():
    ds = catalog.load().get("mBRSET")
    new = {p: f for p, f in ds.facts() if p in ("acquisition.protocol", "versions", "intended_uses")}
    assert set(new) == {"acquisition.protocol", "versions", "intended_uses"}
    for path, fact in new.items():
        assert fact.source in ds.references and fact.source_type == "primary" and fact.checked, path
    assert ds.versions.value[0].version == "1.0"


def test_cli_show_lists_v2_facts_and_their_sources(cli):
    res = cli("catalog", "show", "BRSET")
    assert res.exit_code == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "acquisition.devices" in out and "Canon CR2 (65.1%)" in out
    assert "[brset_repo]" in out  # a source used only by v2 facts is listed
    data = json.loads(cli("catalog", "show", "BRSET", "--json").stdout)
    assert "brset_repo" in data["sources"] and data["schema_version"] == 2


def test_validate_requires_locators_in_records_not_listed_as_legacy(cli, tmp_path):
    """A v2 record may keep the migration's 'not recorded' placeholder only when LEGACY_LOCATORS.txt
    lists it; a fact re-read on a date must always say where it is."""
    rec = _brset()
    rec["images"] = {"value": 16266, "source": "queiroz2025", "locator": "not recorded",
                     "source_type": "secondary"}
    _write(tmp_path, "BRSET", rec)
    r = cli("catalog", "validate", "--catalog", tmp_path)
    assert r.exit_code == 1 and "BRSET: 1 fact(s) with locator 'not recorded'" in r.stdout
    (tmp_path / "LEGACY_LOCATORS.txt").write_text("# migrated\nBRSET  # images from v1\n")
    assert cli("catalog", "validate", "--catalog", tmp_path).exit_code == 0
    rec["images"]["checked"] = "2026-12-01"
    _write(tmp_path, "BRSET", rec)
    r = cli("catalog", "validate", "--catalog", tmp_path)
    assert r.exit_code == 1 and "must say where in the source" in r.stdout


def test_legacy_locator_list_names_only_records_that_still_need_it():
    from curate.catalog.migrate import LOCATOR_NOT_RECORDED
    from curate.catalog.store import legacy_ids

    cat = catalog.load()
    legacy = legacy_ids(builtin_dir())
    need = {ds.id for ds in cat if any(f.locator == LOCATOR_NOT_RECORDED for _, f in ds.facts())}
    assert legacy == need  # shrink the list as sources are re-read; no new record may join it
