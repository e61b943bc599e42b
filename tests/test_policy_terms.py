"""Redistribution policy, attacked: licence spellings, restrictive terms hidden behind permissive words, a
user record overriding a built-in licence, a folder pushed as another dataset.

Every upload case records the operations curate hands to ``huggingface_hub`` (an ``HfApi`` subclass that
records instead of sending) and asserts the *absence* of images: no recorded operation uploads a parquet
shard or an image file, and a card-only hub folder holds none.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hub_fixtures import RecordingApi
from PIL import Image

from curate.catalog import access_for_licence, builtin_dir, hf_license_id, load
from curate.errors import InputError, LicenceError
from curate.policy.terms import decide, normalise_licence, terms_for_licence

IMAGE_SUFFIXES = (".parquet", ".png", ".jpg", ".jpeg", ".dcm", ".nii", ".gz", ".tif", ".tiff", ".bmp")


def _images_in(paths) -> list[str]:
    return [p for p in map(str, paths) if p.lower().endswith(IMAGE_SUFFIXES) or p.startswith("data/")]


RECORD = """\
id: {id}
name: Generated licence test set
modality: {{value: [fundus], source: gen}}
anatomy: {{value: eye, source: gen}}
countries: {{value: [BRA], source: gen}}
images: {{value: 16, source: gen}}
demographics_reported: {{value: [age, sex], source: gen}}
licence: {{value: {licence}, source: gen}}
references:
  gen: {{title: Generated for the curate licence tests, year: 2025}}
"""

#: Licence spellings that must never let images through, with the access class they must get.
CARD_ONLY = {
    "CREDNC": ("PhysioNet Credentialed Health Data License 1.5.0 (non-commercial use only)", "credentialed"),
    "CREDLICENCE": ("PhysioNet Credentialed Health Data Licence 1.5.0", "credentialed"),
    "DUANC": ("Data Use Agreement; non-commercial research only", "restricted"),
    "COMPETITION": ("RSNA challenge data terms (non-commercial research and education only)", "restricted"),
    "KAGGLE": ("Kaggle competition rules (CC BY-NC 4.0 for winners' code)", "restricted"),
    "NCND": ("CC-BY-NC-ND-4.0", "open-noncommercial"),
    "NCNDSPACES": ("CC BY-NC-ND 4.0", "open-noncommercial"),
    "NCNDZW": ("CC\u200b-BY-NC-ND-4.0", "open-noncommercial"),
    "NCNDCASE": ("cc-by-nc-nd-4.0", "open-noncommercial"),
    "NCNDLONG": ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International Licence",
                 "open-noncommercial"),
    "RUA": ("Stanford Research Use Agreement (CC BY 4.0 for the labels)", "restricted"),
    "APPLY": ("Available on request after application to the data access committee", "restricted"),
}


def _catalog(folder: Path, records: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ds_id, lic in records.items():
        text = RECORD.format(id=ds_id, licence=json.dumps(lic))
        (folder / f"{ds_id}.yaml").write_text(text, encoding="utf-8")
    return folder


def _images(root: Path, n: int = 16) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    img = root / "images"
    img.mkdir(parents=True)
    rows = []
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(img / f"im{i}.png")
        rows.append({"image_id": f"im{i}", "patient_id": f"pt{i // 2}", "label": ["a", "b"][i % 2]})
    meta = root / "meta.csv"
    pd.DataFrame(rows).to_csv(meta, index=False)
    return meta, img


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    records = {k: v[0] for k, v in CARD_ONLY.items()}
    records.update(OPENZW="CC\u200b-BY-4.0", OPENLICENCE="CC BY 4.0 Licence",
                   MYSTERY="Custom terms of the Example Hospital")
    return _catalog(tmp_path_factory.mktemp("cat"), records)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return _images(tmp_path_factory.mktemp("raw"))


def _publish(**kw):
    from curate.publish.folder import publish

    return publish(**kw)


# --------------------------------------------------------------------------------------- the terms
def test_normalisation():
    assert normalise_licence("CC\u200b-BY\u2013NC-ND\u00a0 4.0 Licence\ufeff") == "cc-by-nc-nd 4.0 license"
    assert normalise_licence("ＣＣ－ＢＹ－４.０") == "cc-by-4.0"  # NFKC: full-width forms
    assert terms_for_licence("CC\u200b-BY-4.0") == terms_for_licence("CC-BY-4.0")
    assert hf_license_id("CC\u200b-BY-4.0") == "cc-by-4.0"
    assert hf_license_id("cc-by-nc-nd-4.0") == "cc-by-nc-nd-4.0"


@pytest.mark.parametrize("ds_id", sorted(CARD_ONLY))
def test_restrictive_terms_win(ds_id):
    licence, access = CARD_ONLY[ds_id]
    terms = terms_for_licence(licence)
    assert access_for_licence(licence) == access
    assert decide(terms).images == "refused", terms


@pytest.mark.parametrize("licence", ["CC-BY-4.0", "CC BY 4.0", "CC\u200b-BY-4.0", "cc by 4.0 licence",
                                     "CC0-1.0", "MIT", "CC-BY-SA-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-4.0",
                                     "ODbL-1.0", "Creative Commons Attribution 3.0 Unported License"])
def test_redistributable_terms_allow_images(licence):
    assert decide(terms_for_licence(licence)).images == "allowed"


@pytest.mark.parametrize("licence", [None, "", "unknown", "Group", "Not stated in cited sources",
                                     "Custom terms of the Example Hospital", "CC-BY-NCX",
                                     "Free for non-commercial research"])
def test_unknown_terms_need_rights(licence):
    d = decide(terms_for_licence(licence))
    assert d.images == "needs-rights"


def test_override_needs_rights_even_when_permissive():
    assert decide(terms_for_licence("CC-BY-4.0"), override=True).images == "needs-rights"
    assert decide(terms_for_licence("CC-BY-NC-ND-4.0"), override=True).images == "refused"


# ----------------------------------------------------------------------------- the built-in catalog
@pytest.mark.parametrize("ds_id", ["RSNA-Screening-Mammography", "Harvard-FairVLMed", "Harvard-GDP", "BRSET",
                                   "MIMIC-CXR-JPG", "CheXpert", "PadChest", "VinDr-Mammo", "LBMD",
                                   "Moorfields-BioResource-001", "ADNI-1.5T"])
def test_builtin_card_only_records(ds_id):
    from curate.pipeline.guard import check_upload

    ds = load().get(ds_id)
    assert decide(ds.terms).images == "refused"
    with pytest.raises(LicenceError, match="--card-only"):
        check_upload(ds, with_images=True, i_have_rights=True)  # no acknowledgement unlocks these


def test_every_builtin_record_has_sourced_terms():
    cat = load()
    assert len(cat) >= 55
    for ds in cat:
        assert ds.use_terms is not None, ds.id
        licence_sources = {ds.licence.source} | {c.source for c in ds.conflicts if c.field == "licence"}
        assert ds.use_terms.source in licence_sources, ds.id  # no new source invented
        if access_for_licence(ds.licence.value) == "unknown" and not ds.conflicts_for("licence"):
            # named terms the patterns cannot read: a record may state their restrictions; a permission
            # only with the source's own words quoted (as_printed), never inferred
            t = ds.use_terms.value
            if True in (t.redistribution, t.derivatives, t.commercial):
                assert ds.licence.as_printed or ds.use_terms.as_printed, ds.id
            assert t.agreement in (None, "none", "credentialed", "dua", "application", "not-released"), ds.id
    # the competition record's access class is no longer open
    assert cat.get("RSNA-Screening-Mammography").access == "restricted"
    assert cat.get("Harvard-FairVLMed").terms.derivatives is False  # ND from its dataset card (conflict)


def test_use_terms_may_not_grant_what_the_licence_forbids(tmp_path):
    from curate.catalog import validate_dir

    rec = yaml.safe_load(RECORD.format(id="LIAR", licence='"CC-BY-NC-ND-4.0"'))
    rec["use_terms"] = {"value": {"redistribution": True, "derivatives": True, "commercial": True,
                                  "agreement": "none", "competition": False}, "source": "gen"}
    (tmp_path / "LIAR.yaml").write_text(yaml.safe_dump(rec), encoding="utf-8")
    problems = validate_dir(tmp_path)
    assert any("use_terms" in p and "derivatives" in p and "commercial" in p for p in problems), problems


# ----------------------------------------------------------------------------- publish and push
@pytest.mark.parametrize("ds_id", sorted(CARD_ONLY))
def test_card_only_terms_upload_no_images(tmp_path, raw, catalog, ds_id):
    meta, images = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="refusing to upload the images"):
        _publish(dataset_id=ds_id, metadata=meta, images=images, out=tmp_path / "full", catalog_dir=catalog,
                 push=f"someone/{ds_id.lower()}", api=api, i_have_rights=True)
    assert api.calls == [] and not (tmp_path / "full").exists()
    # the documentation alone may go: nothing but card files, and the folder holds no image either
    out = tmp_path / "card"
    _publish(dataset_id=ds_id, metadata=meta, images=images, out=out, card_only=True, catalog_dir=catalog,
             push=f"someone/{ds_id.lower()}", api=api)
    assert api.uploaded() and _images_in(api.uploaded()) == []
    assert _images_in(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == []


@pytest.mark.parametrize("ds_id", ["OPENZW", "OPENLICENCE"])
def test_odd_spellings_of_open_licences_are_not_the_licence(tmp_path, raw, catalog, ds_id):
    """Read as CC BY for the card, but only the exact id lets images go (issue 27: an allow-list)."""
    meta, images = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="not exactly a licence id"):
        _publish(dataset_id=ds_id, metadata=meta, images=images, out=tmp_path / "o", catalog_dir=catalog,
                 splits="0.5,0.5", push="someone/open", api=api, i_have_rights=True)
    assert api.calls == []


def test_cli_refusal_is_one_line(cli, tmp_path, raw, catalog):
    meta, images = raw
    env = {"HF_TOKEN": "hf_test", "HF_ENDPOINT": "http://127.0.0.1:9"}
    r = cli("publish", "DUANC", "--meta", meta, "--images", images, "--out", tmp_path / "o", "--catalog",
            catalog, "--push", "someone/x", "--i-have-rights", env=env)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1
    assert lines[0].startswith("error: refusing to upload the images")
    assert "data use agreement" in lines[0] and not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------ built-in overrides
@pytest.fixture
def brset_override(tmp_path) -> Path:
    rec = yaml.safe_load((builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8"))
    rec["licence"] = {"value": "CC-BY-4.0", "source": "nakayama2024", "locator": "Abstract",
                      "source_type": "primary"}
    rec.pop("use_terms")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "BRSET.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")
    return folder


def test_override_is_shown_in_catalog_show(cli, brset_override):
    r = cli("catalog", "show", "BRSET", "--catalog", brset_override)
    assert r.exit_code == 0 and "licence conflict" in r.stdout
    assert "PhysioNet Credentialed Health Data License" in r.stdout
    j = cli("catalog", "show", "BRSET", "--catalog", brset_override, "--json")
    rec = json.loads(j.stdout)
    assert rec["licence_conflict"]["builtin_access"] == "credentialed"
    assert rec["upload"]["images"] == "refused"  # the built-in record's terms win
    assert "built-in record of BRSET" in rec["upload"]["reason"]
    plain = json.loads(cli("catalog", "show", "BRSET", "--json").stdout)
    assert plain["licence_conflict"] is None and plain["upload"]["images"] == "refused"


def test_override_is_shown_in_the_card(tmp_path, brset_override):
    from curate.cards.build import build_card

    res = build_card("BRSET", out=tmp_path / "card", catalog_dir=brset_override)
    for key in ("datasheet_md", "hub_card"):
        text = res.paths[key].read_text(encoding="utf-8")
        assert "Licence conflict" in text and "PhysioNet Credentialed Health Data License" in text, key


def test_override_blocks_image_upload_even_with_rights(tmp_path, raw, brset_override):
    """docs/privacy.md: --i-have-rights never unlocks credentialed terms, whoever relabels them."""
    meta, images = raw
    api = RecordingApi()
    for rights in (False, True):
        with pytest.raises(LicenceError, match="built-in record of BRSET.*credentialed"):
            _publish(dataset_id="BRSET", metadata=meta, images=images, out=tmp_path / "o",
                     catalog_dir=brset_override, push="someone/brset", api=api, i_have_rights=rights)
    assert api.calls == [] and not (tmp_path / "o").exists()


@pytest.mark.parametrize("file_id", ["brset", "Brset"])  # the id is case-insensitive
def test_override_by_other_spellings_is_a_conflict(tmp_path, file_id, monkeypatch):
    rec = yaml.safe_load((builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8"))
    rec.update(id=file_id, aliases=[], licence={"value": "CC0-1.0", "source": "nakayama2024",
                                                   "locator": "Abstract", "source_type": "primary"})
    rec.pop("use_terms")
    (tmp_path / f"{file_id}.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CURATE_CATALOG", str(tmp_path))  # the environment variable is a user catalog too
    ds = load().get(file_id)
    assert ds.licence_override is not None and ds.licence_override.builtin_access == "credentialed"
    from curate.pipeline.guard import decision_for

    assert decision_for(ds).images == "refused"  # the built-in record's credentialed terms win


def test_same_licence_override_is_no_conflict(tmp_path):
    rec = yaml.safe_load((builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8"))
    rec["images"] = {"value": 99, "source": "nakayama2024", "locator": "Abstract", "source_type": "primary"}
    (tmp_path / "BRSET.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")
    ds = load(tmp_path).get("BRSET")
    assert ds.images.value == 99 and ds.licence_override is None


# ------------------------------------------------------------------------------------ push manifest
def test_push_of_a_folder_built_for_another_dataset_uploads_nothing(tmp_path, raw, catalog):
    """A credentialed dataset's folder, built locally with its images, pushed as an open dataset."""
    from curate.publish.push import push_folder

    meta, images = raw
    out = tmp_path / "cred"
    _publish(dataset_id="CREDNC", metadata=meta, images=images, out=out, splits="0.5,0.5",
             catalog_dir=catalog)
    assert _images_in(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    api = RecordingApi()
    with pytest.raises(LicenceError, match="was built for CREDNC, not OPENZW"):
        push_folder(out, "someone/open", dataset="OPENZW", api=api, catalog_dir=catalog)
    assert api.calls == []


def test_push_refuses_a_folder_without_a_valid_manifest(tmp_path, raw, catalog):
    from curate.publish.manifest import PUBLISH_MANIFEST
    from curate.publish.push import push_folder

    meta, images = raw
    out = tmp_path / "o"
    _publish(dataset_id="OPENZW", metadata=meta, images=images, out=out, splits="0.5,0.5",
             catalog_dir=catalog)
    api = RecordingApi()
    (out / PUBLISH_MANIFEST).write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid curate publish manifest"):
        push_folder(out, "someone/open", dataset="OPENZW", api=api, catalog_dir=catalog)
    (out / PUBLISH_MANIFEST).unlink()
    with pytest.raises(InputError, match="build it with curate publish"):
        push_folder(out, "someone/open", dataset="OPENZW", api=api, catalog_dir=catalog)
    assert api.calls == []


def test_images_added_to_a_card_only_folder_are_not_pushed(tmp_path, raw, catalog):
    from curate.publish.push import push_folder

    meta, images = raw
    out = tmp_path / "card"
    _publish(dataset_id="OPENZW", metadata=meta, images=images, out=out, card_only=True, catalog_dir=catalog)
    (out / "data").mkdir()
    (out / "data" / "train-00000-of-00001.parquet").write_bytes(b"PAR1 smuggled")
    api = RecordingApi()
    with pytest.raises(InputError, match="did not write"):
        push_folder(out, "someone/open", dataset="OPENZW", api=api, catalog_dir=catalog)
    assert api.calls == []


def test_push_refuses_when_the_licence_changed_since_the_build(tmp_path, raw):
    from curate.publish.push import push_folder

    meta, images = raw
    cat = _catalog(tmp_path / "cat", {"SHIFTY": "CC-BY-4.0"})
    out = tmp_path / "o"
    _publish(dataset_id="SHIFTY", metadata=meta, images=images, out=out, splits="0.5,0.5", catalog_dir=cat)
    _catalog(cat, {"SHIFTY": "Example Data Use Agreement"})
    api = RecordingApi()
    with pytest.raises(LicenceError, match="was built under the licence 'CC-BY-4.0'"):
        push_folder(out, "someone/shifty", dataset="SHIFTY", api=api, catalog_dir=cat, card_only=True)
    assert api.calls == []


def test_record_without_use_terms_derives_them(tmp_path):
    """User catalogs need not write use_terms: they are derived from the licence, with its source."""
    cat = _catalog(tmp_path, {"PLAIN": "CC-BY-NC-ND-4.0"})
    ds = load(cat).get("PLAIN")
    assert ds.use_terms is None and ds.terms.derivatives is False and ds.terms_source == "gen"
