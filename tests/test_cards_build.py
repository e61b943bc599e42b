"""``build_card`` / ``curate build-card``: datasheet, hub card, Croissant RAI, provenance, errors.

Expected values come from the catalog record and from sums over the catalog computed here, from
huggingface_hub's own parser and from mlcroissant's validator.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import yaml

import curate
from curate.cards.build import FILES, build_card
from curate.cards.datasheet import SECTIONS
from curate.catalog import DEMOGRAPHICS, load
from tests.test_cards_composition import IMAGE_TAG, PATIENT_TAG, make_metadata

EPOCH = "1735689600"  # 2025-01-01T00:00:00Z

MINIMAL = """\
id: ZZTEST
name: Minimal test dataset
modality: {value: [fundus], source: ref1, locator: Table 9}
anatomy: {value: eye, source: ref1}
countries: {value: [PRT], source: ref1}
images: {value: 1234, source: ref1, locator: p. 3}
demographics_reported: {value: [], source: ref1}
licence: {value: CC-BY-4.0, source: ref1}
references:
  ref1: {title: A made-up paper, year: 2020}
conflicts:
  - {field: images, value: 1300, source: ref2, locator: Abstract, note: before exclusions}
"""


@pytest.fixture(scope="module")
def brset(tmp_path_factory):
    out = tmp_path_factory.mktemp("cards") / "BRSET"
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    mp.delenv("CURATE_CATALOG", raising=False)
    try:
        yield build_card("BRSET", out=out)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def minimal(tmp_path_factory):
    cat = tmp_path_factory.mktemp("catalog")
    (cat / "ZZTEST.yaml").write_text(MINIMAL.replace("source: ref2", "source: ref1"))
    out = tmp_path_factory.mktemp("cards") / "ZZTEST"
    return build_card("zztest", out=out, catalog_dir=cat), cat


def _section(md: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, flags=re.M | re.S)
    assert m, f"section {title!r} missing"
    return m.group(1)


# ---------------------------------------------------------------------------------------------- datasheet
def test_outputs_written(brset):
    assert sorted(p.name for p in brset.out.iterdir() if not p.name.startswith(".")) == sorted(FILES.values())
    assert brset.paths["hub_card"].name == "README.md"


def test_datasheet_has_seven_sections_and_representation(brset):
    md = brset.paths["datasheet_md"].read_text()
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert heads[: len(SECTIONS)] == list(SECTIONS)
    assert [h.split(". ", 1)[1].lower() for h in heads[:7]] == [
        "motivation", "composition", "collection process", "preprocessing, cleaning and labeling", "uses",
        "distribution", "maintenance"]


def test_datasheet_values_equal_catalog(brset):
    ds = load().get("BRSET")
    md = brset.datasheet_md
    comp = _section(md, "2. Composition")
    assert f"Images: {ds.n_images:,} *(source: {ds.cite('images')})*" in comp
    assert ds.n_images == 16266 and "16,266" in comp
    assert f"Patients: {ds.n_patients:,} *(source: {ds.cite('patients')})*" in comp
    dist = _section(md, "6. Distribution")
    assert ds.licence.value in dist and f"printed as “{ds.licence.as_printed}”" in dist
    assert ds.access in dist


def test_representation_shares_computed_from_catalog(brset):
    cat = load()
    ds = cat.get("BRSET")
    def once(group):  # a derived set whose sources are all in the group adds nothing (counted there)
        ids = {d.id for d in group}
        return sum(d.n_images for d in group
                   if not (d.derived_from and all(p in ids for p in d.derived_from.value)))

    fundus_total = once([d for d in cat if "fundus" in d.modality.value and d.n_images is not None])
    brazil_total = once([d for d in cat if d.countries.value == ["BRA"] and not d.multinational
                         and d.n_images is not None])
    rep = _section(brset.datasheet_md, "8. Representation")
    row = next(line for line in rep.splitlines() if line.startswith("| fundus |"))
    assert row.split(" | ")[1:4] == [f"{ds.n_images:,}", f"{fundus_total:,}",
                                     f"{ds.n_images / fundus_total:.1%}"]
    row = next(line for line in rep.splitlines() if line.startswith("| Brazil |"))
    assert row.split(" | ")[2:4] == [f"{brazil_total:,}", f"{ds.n_images / brazil_total:.1%}"]
    assert "age, sex, nationality" in rep
    missing = [d.replace("_", " ") for d in DEMOGRAPHICS if d not in ds.demographics_reported.value]
    assert f"**Demographic attributes not reported:** {', '.join(missing)}" in rep
    assert "credentialed" in rep


def test_absent_fields_say_not_reported_and_conflicts_shown(minimal):
    build, _ = minimal
    md = build.datasheet_md
    comp = _section(md, "2. Composition")
    assert "Patients: *Not reported by the source.*" in comp
    assert "Studies: *Not reported by the source.*" in comp
    assert "**Over what timeframe was the data collected?** *Not reported by the source.*" in md
    assert "⚠ **Sources disagree:** ref1, Abstract reports 1,300 (before exclusions)" in comp
    conflicts = _section(md, "Conflicts between sources")
    assert "| images | 1,234 (ref1, p. 3) | 1,300 | ref1, Abstract | before exclusions |" in conflicts
    assert "Motivation" in md and md.count("Not reported by the source") > 10


def test_html_datasheet(brset):
    html = brset.paths["datasheet_html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    assert "<h2>1. Motivation</h2>" in html and "16,266" in html


# ---------------------------------------------------------------------------------------------- hub card
def test_hub_card_yaml_through_huggingface_hub(brset):
    from huggingface_hub import DatasetCard, DatasetCardData

    card = DatasetCard.load(brset.paths["hub_card"])
    data = card.data
    assert data.license == "other"
    assert data.license_name == "physionet-credentialed-health-data-license"
    assert data.license_link == "https://physionet.org/content/brazilian-ophthalmological/"
    assert data.pretty_name == "Brazilian Multilabel Ophthalmological Dataset"
    assert data.size_categories == ["10K<n<100K"]  # 16,266 images
    assert "image-classification" in data.task_categories
    assert {"medical", "fundus", "brazil"} <= set(data.tags)
    assert data.language == ["pt"]
    # credentialed data: the Hub gates the card with a prompt naming the data holder and the licence
    assert "physionet.org/content/brazilian-ophthalmological" in data.extra_gated_prompt
    assert "PhysioNet Credentialed Health Data License" in data.extra_gated_prompt
    assert list(data.extra_gated_fields.values()) == ["checkbox"]
    assert "source_datasets" not in data.to_dict()  # BRSET is not derived from another catalog dataset
    DatasetCardData(**data.to_dict())  # the hub's own validation accepts every field
    for heading in ("## Dataset Details", "## Uses", "## Dataset Structure", "## Dataset Creation",
                    "## Bias, Risks, and Limitations", "## Citation", "## Provenance"):
        assert heading in card.text


def test_hub_card_spdx_licence(minimal):
    from huggingface_hub import DatasetCard

    build, _ = minimal
    data = DatasetCard.load(build.paths["hub_card"]).data
    assert data.license == "cc-by-4.0"
    assert data.size_categories == ["1K<n<10K"]
    assert "license_name" not in data.to_dict()
    assert "extra_gated_prompt" not in data.to_dict()  # open data: no gate


# ---------------------------------------------------------------------------------------------- croissant
def _validate(path: Path):
    import mlcroissant as mlc

    logging.getLogger("absl").setLevel(logging.ERROR)
    ds = mlc.Dataset(jsonld=path)
    issues = ds.metadata.ctx.issues
    assert not issues.errors, issues.errors
    # only "recommended property missing" warnings (datePublished/version are not in the catalog)
    assert all("is recommended" in w for w in issues.warnings), issues.warnings
    return ds.metadata


def test_croissant_validates_with_rai_fields(brset):
    md = _validate(brset.paths["croissant"])
    assert md.name == "Brazilian Multilabel Ophthalmological Dataset"
    doc = json.loads(brset.paths["croissant"].read_text())
    assert "http://mlcommons.org/croissant/RAI/1.0" in doc["conformsTo"]
    for key in ("rai:dataCollection", "rai:dataBiases", "rai:dataLimitations", "rai:dataUseCases",
                "rai:dataSocialImpact", "rai:personalSensitiveInformation"):
        assert doc[key], key
    assert any("one country, Brazil" in b for b in md.data_biases)
    assert md.personal_sensitive_information and md.data_use_cases and md.data_limitations
    assert doc["distribution"] == [] and doc["recordSet"] == []


def test_croissant_timeframe_and_spdx(minimal, tmp_path):
    build, cat = minimal
    doc = json.loads(build.paths["croissant"].read_text())
    assert doc["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert "rai:dataCollectionTimeFrame" not in doc  # not reported: no invented dates
    rec = yaml.safe_load((cat / "ZZTEST.yaml").read_text())
    rec["years_collected"] = {"value": {"start": 2011, "end": 2016}, "source": "ref1"}
    cat2 = tmp_path / "cat"
    cat2.mkdir()
    (cat2 / "ZZTEST.yaml").write_text(yaml.safe_dump(rec))
    b2 = build_card("ZZTEST", out=tmp_path / "out", catalog_dir=cat2)
    md = _validate(b2.paths["croissant"])
    assert [d.year for d in md.data_collection_timeframe] == [2011, 2016]


# ---------------------------------------------------------------------------------------------- provenance
def test_provenance_everywhere_and_reproducible(brset, tmp_path, monkeypatch):
    ds = load().get("BRSET")
    h = ds.record_hash()
    for key in ("datasheet_md", "datasheet_html", "hub_card", "croissant"):
        text = brset.paths[key].read_text()
        assert h in text, key
        assert "2025-01-01T00:00:00Z" in text, key
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    again = build_card("BRSET", out=tmp_path / "again")
    for key, p in brset.paths.items():
        assert again.paths[key].read_bytes() == p.read_bytes(), key


def test_extra_sections_hook(tmp_path):
    plain = build_card("BRSET", out=tmp_path / "a")
    assert "## Curation" not in plain.datasheet_md
    b = build_card("BRSET", out=tmp_path / "b",
                   extra_sections=[("Curation", "Near-duplicates: 12 pairs at cosine ≥ 0.95.")])
    for text in (b.datasheet_md, str(b.hub_card)):
        assert "## Curation\n\nNear-duplicates: 12 pairs at cosine ≥ 0.95." in text


def test_python_api_lazy_export(tmp_path):
    b = curate.build_card("BRSET", out=tmp_path / "x")
    assert b.dataset.id == "BRSET" and b.croissant["name"] == b.dataset.name
    assert b.hub_card.data.license == "other"


# ---------------------------------------------------------------------------------------------- metadata
@pytest.fixture(scope="module")
def with_metadata(tmp_path_factory):
    d = tmp_path_factory.mktemp("meta")
    path = d / "labels.csv"
    make_metadata(1).to_csv(path, index=False)
    out = d / "card"
    from tests.conftest import invoke

    res = invoke("build-card", "BRSET", "--meta", path, "--out", out, "--column", "label=diabetes",
                 "--column", "label=DR_ICDR", "--column", "age=patient_age")
    assert res.exit_code == 0, res.stderr
    return out, path


def test_no_identifier_in_any_output(with_metadata):
    out, path = with_metadata
    ids = set(make_metadata(1)["patient_id"]) | set(make_metadata(1)["image_id"])
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 4
    for p in files:  # the representativeness chart is a PNG: its bytes are searched too
        text = p.read_bytes().decode("latin-1") if p.suffix == ".png" else p.read_text()
        assert PATIENT_TAG not in text and IMAGE_TAG not in text, p.name
        assert not any(i in text for i in ids)
    md = (out / "datasheet.md").read_text()
    assert "### Measured composition" in md and "<11" in md and "90+" in md


def test_suppression_footnote_under_measured_composition(with_metadata):
    """Small cells (a sex group of 4 patients) are hidden, so both markers are explained under the tables."""
    out, _ = with_metadata
    for name in ("datasheet.md", "README.md"):
        md = (out / name).read_text()
        comp = md[md.index("### Measured composition"):]
        assert "| <11 |" in comp and "| * |" in comp, name
        assert ("*`<11`: fewer than 11 individuals; `*`: hidden so that a `<11` cell cannot be recovered "
                "from the published totals.*") in comp, name


def test_metadata_croissant_and_provenance(with_metadata):
    from curate._io import sha256_file

    out, path = with_metadata
    md = _validate(out / "croissant.json")
    assert [f.name for f in md.record_sets[0].fields] == list(make_metadata(1).columns)
    digest = sha256_file(path)
    for name in FILES.values():
        assert digest in (out / name).read_text(), name
    assert '"label": ["diabetes", "DR_ICDR"]' in (out / "datasheet.md").read_text()


# ---------------------------------------------------------------------------------------------- CLI errors
def _one_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture
def bad_inputs(tmp_path):
    good = tmp_path / "labels.csv"
    make_metadata().to_csv(good, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    ages = make_metadata()
    ages["patient_age"] = ages["patient_age"].astype(object)
    ages.loc[3, "patient_age"] = "n/a?"
    bad_age = tmp_path / "ages.csv"
    ages.to_csv(bad_age, index=False)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 garbage")
    return {"good": good, "empty": empty, "bad_age": bad_age, "junk": junk, "dir": tmp_path}


@pytest.mark.parametrize(
    "args, code, pattern",
    [
        (["BRST"], 2, r"unknown dataset 'BRST' \(did you mean BRSET\?\)"),
        (["BRSET", "--meta", "{dir}/nope.csv"], 1, r"metadata file '.*nope.csv' does not exist"),
        (["BRSET", "--meta", "{empty}"], 1, r"is empty"),
        (["BRSET", "--meta", "{junk}"], 1, r"cannot read metadata file"),
        (["BRSET", "--meta", "{good}", "--column", "age=nope"], 2, r"no column 'nope'"),
        (["BRSET", "--meta", "{good}", "--column", "age:patient_age"], 2, r"expected ROLE=COLUMN"),
        (["BRSET", "--meta", "{bad_age}"], 1, r"non-numeric"),
        (["BRSET", "--column", "age=patient_age"], 2, r"--meta"),
        ([], 2, r"give a dataset ID"),
        (["BRSET", "--all"], 2, r"not both"),
    ],
)
def test_cli_errors_one_line_and_no_output(cli, bad_inputs, args, code, pattern):
    out = bad_inputs["dir"] / "out"
    argv = ["build-card", *[a.format(**bad_inputs) for a in args], "--out", str(out)]
    res = cli(*argv)
    assert res.exit_code == code, (res.exit_code, res.stderr)
    assert re.search(pattern, _one_line(res))
    assert not out.exists()
    assert not [p for p in bad_inputs["dir"].iterdir() if ".tmp-" in p.name]


def test_failed_rebuild_keeps_previous_output(cli, bad_inputs):
    out = bad_inputs["dir"] / "card"
    assert cli("build-card", "BRSET", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = cli("build-card", "BRSET", "--out", out, "--meta", bad_inputs["bad_age"])
    assert res.exit_code == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in bad_inputs["dir"].iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_refuses_foreign_folder(cli, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    res = cli("build-card", "BRSET", "--out", mine)
    assert res.exit_code == 1 and "not written by curate" in _one_line(res)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_cli_json_output(cli, tmp_path):
    res = cli("build-card", "BRSET", "--out", tmp_path / "j", "--json")
    assert res.exit_code == 0, res.stderr
    files = json.loads(res.stdout)["files"]
    assert {Path(p).name for p in files.values()} == set(FILES.values())


def test_cli_all_builds_gallery(cli, tmp_path):
    out = tmp_path / "gallery"
    res = cli("build-card", "--all", "--out", out, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert res.exit_code == 0, res.stderr
    ids = load().ids
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(ids)
    assert (out / ".source_date_epoch").read_text().strip() == EPOCH
    index = (out / "index.md").read_text()
    assert all(f"| {i} |" in index for i in ids)
    res = cli("build-card", "--all", "--meta", "x.csv", "--out", out)
    assert res.exit_code == 2 and "cannot be used with --all" in _one_line(res)


def test_build_card_without_metadata_imports_no_heavy_modules(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from curate.cli import main\n"
        f"try:\n    main(['build-card', 'BRSET', '--out', {str(tmp_path / 'c')!r}])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = {'pandas', 'pyarrow', 'datasets', 'torch', 'mlcroissant', 'sklearn'}\n"
        "print('HEAVY=' + ','.join(sorted(heavy & set(sys.modules))))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("HEAVY=")]
    assert line == ["HEAVY="], f"heavy imports at start-up: {line}"


def test_one_clearly_named_hash_per_input(tmp_path):
    """Each hash in the datasheet has its own name; the catalog record is hashed once (issue 15)."""
    import re

    import curate

    build = curate.build_card("BRSET", out=tmp_path / "c")
    md = (build.out / "datasheet.md").read_text(encoding="utf-8")
    full = re.findall(r"^\| ([^|]+) \| .*?`([0-9a-f]{64})`", md, flags=re.M)
    labels = [label.strip() for label, _ in full]
    digests = [d for _, d in full]
    assert len(set(digests)) == len(digests), "one value per hash"
    assert len(set(labels)) == len(labels), "one name per hash"
    record = curate.catalog.load().get("BRSET").record_hash()
    assert digests[labels.index("Catalog record")] == record
    # the sources list names the same record hash (its prefix), not a different one
    short = re.findall(r"record sha256 `([0-9a-f]{16})…`", md)
    assert short and all(record.startswith(s) for s in short)


def test_measured_card_needs_out(cli, tmp_path, monkeypatch):
    """`build-card ID --meta F` without --out never writes into the tracked gallery cards/ID."""
    monkeypatch.chdir(tmp_path)
    meta = tmp_path / "labels.csv"
    meta.write_text("image_id,patient_id,patient_sex\n" + "".join(f"i{i},p{i // 2},F\n" for i in range(40)))
    r = cli("build-card", "BRSET", "--meta", meta)
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "error: a card measured from --meta/--embeddings/--inspect needs --out DIR (the default cards/ID "
        "holds the catalog-only gallery)"]
    assert not (tmp_path / "cards").exists()
    r = cli("build-card", "BRSET", "--meta", meta, "--out", tmp_path / "measured")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "measured" / "datasheet.md").is_file() and not (tmp_path / "cards").exists()


def test_croissant_declares_1_1_with_brset_v2_answers(brset):
    """Croissant 1.1 + RAI 1.0; BRSET's sourced devices, labelling and versions reach the RAI properties,
    every emitted rai: key is one of the 20 RAI properties, and mlcroissant validates the file."""
    from curate.cards.croissant import EXTRA_RAI_PROPERTIES, RAI_PROPERTIES

    md = _validate(brset.paths["croissant"])
    doc = json.loads(brset.paths["croissant"].read_text())
    assert doc["conformsTo"][0] == "http://mlcommons.org/croissant/1.1"
    assert md.ctx.is_v1_1()
    assert len(RAI_PROPERTIES) == 20
    assert {k.removeprefix("rai:") for k in doc if k.startswith("rai:")} <= {*RAI_PROPERTIES,
                                                                             *EXTRA_RAI_PROPERTIES}
    assert "Canon CR2 (65.1%)" in doc["rai:dataCollection"]
    assert any("retinal specialist" in x for x in doc["rai:dataAnnotationProtocol"])
    assert "10.13026/xcxw-8198" in doc["rai:dataReleaseMaintenancePlan"]
    assert [d.year for d in md.data_collection_timeframe] == [2010, 2020]
    assert "prov:wasDerivedFrom" not in doc  # BRSET derives from no other dataset


def test_croissant_lineage_is_prov_was_derived_from(minimal, tmp_path):
    _, cat = minimal
    rec = yaml.safe_load((cat / "ZZTEST.yaml").read_text())
    rec["derived_from"] = {"value": ["CQ500"], "source": "ref1", "locator": "Methods"}
    cat2 = tmp_path / "cat"
    cat2.mkdir()
    (cat2 / "ZZTEST.yaml").write_text(yaml.safe_dump(rec))
    b = build_card("ZZTEST", out=tmp_path / "out", catalog_dir=cat2)
    _validate(b.paths["croissant"])
    doc = json.loads(b.paths["croissant"].read_text())
    assert doc["@context"]["prov"] == "http://www.w3.org/ns/prov#"
    assert [p["name"] for p in doc["prov:wasDerivedFrom"]] == ["CQ500"]
    assert "ref1, Methods" in doc["prov:wasDerivedFrom"][0]["description"]
    # the hub card carries the same lineage in the Hub's own field
    from huggingface_hub import DatasetCard

    assert DatasetCard.load(b.paths["hub_card"]).data.source_datasets == ["extended|CQ500"]


def test_croissant_usage_info_codes_the_licence_with_duo_and_odrl(brset, minimal):
    """BRSET's PhysioNet credentialed licence (no redistribution, no derivatives, approved users only) and
    the minimal record's CC-BY-4.0 (redistribute, derive, attribute) as Croissant 1.1 usageInfo, checked
    against the DUO ids in EBISPOT/DUO's duo.csv and the ODRL 2.2 action names, and valid for mlcroissant."""
    doc = json.loads(brset.paths["croissant"].read_text())
    _validate(brset.paths["croissant"])
    codes = {u["termCode"]: u for u in doc["usageInfo"] if u.get("@type") == "sc:DefinedTerm"}
    assert set(codes) == {"DUO:0000026"}  # user specific restriction; commercial use is not stated
    assert codes["DUO:0000026"]["url"] == "http://purl.obolibrary.org/obo/DUO_0000026"
    (policy,) = [u for u in doc["usageInfo"] if u.get("@type") == "odrl:Policy"]
    assert {r["odrl:action"]["@id"] for r in policy["odrl:prohibition"]} == {"odrl:distribute", "odrl:derive"}
    assert "odrl:permission" not in policy
    build, _ = minimal
    doc = json.loads(build.paths["croissant"].read_text())
    (policy,) = [u for u in doc["usageInfo"] if u.get("@type") == "odrl:Policy"]
    assert {r["odrl:action"]["@id"] for r in policy["odrl:permission"]} == {"odrl:distribute", "odrl:derive"}
    duty = [{"odrl:action": {"@id": "odrl:attribute"}}]
    assert all(r["odrl:duty"] == duty for r in policy["odrl:permission"])
    assert not [u for u in doc["usageInfo"] if u.get("@type") == "sc:DefinedTerm"]  # no DUO restriction
    assert "odrl:prohibition" not in policy


def test_duo_codes_for_non_commercial_and_agreements():
    from curate.policy.terms import terms_for_licence
    from curate.policy.usage_codes import duo_codes

    assert duo_codes(terms_for_licence("CC-BY-NC-4.0")) == ["DUO:0000046"]
    assert duo_codes(terms_for_licence("CC0-1.0")) == []
    assert "DUO:0000026" in duo_codes(terms_for_licence("PhysioNet Restricted Health Data License 1.5.0"))


def test_croissant_rai_annotators_and_raw_data_from_v2_facts(brset):
    doc = json.loads(brset.paths["croissant"].read_text())
    assert any("retinal specialist" in x for x in doc["rai:annotatorDemographics"])
    assert "JPEG" in doc["rai:dataCollectionRawData"]
    assert "(source: brset_repo" in doc["rai:dataCollectionRawData"]
