"""The licence guard as an allow-list (issue 27): images leave only under a licence value that *is* a known
licence id, never because a regex failed to find a restriction; a built-in record's terms always win; a
derived dataset is at most as open as its most restrictive source.

The attacks run end to end through ``curate publish --push`` (offline: a closed endpoint for the CLI, a
recording ``HfApi`` for the Python API). The oracle is independent of curate's rule: no operation handed to
``huggingface_hub`` and no file in the output folder is an image or a data shard.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hub_fixtures import RecordingApi
from test_policy_terms import RECORD, _images, _images_in

from curate.catalog import builtin_dir
from curate.errors import LicenceError
from curate.policy.licence_ids import exact_licence
from curate.policy.terms import UseTerms
from curate.policy.upload import RecordTerms, decide_upload

#: The strings of issue 27, each naming a restriction the old parser did not read (or hiding one).
ATTACKS = {
    "NODERIV": "CC BY 4.0; no derivatives may be shared",
    "NCNDPAREN": "CC BY 4.0 (NC-ND)",
    "DTA": "CC BY-NC 4.0, access after signing a data transfer agreement",
    "REGISTER": "CC BY 4.0 - for research use only, must register and sign terms before download",
    "CYRILLIC": "CC-BY-4.0 (PhysioNet \u0441redentialed access only)",  # Cyrillic с
    "BIDI": "CC-BY-4.0 \u202eDN-CN\u202c",  # right-to-left override: displays as NC-ND
}
#: Looks like an SPDX id, is not one: a confusable, a full-width form, an invisible character.
LOOKALIKES = ["CC-BY-4.\u041e", "\uff23\uff23-BY-4.0", "CC\u200b-BY-4.0", "CC-BY-4.0\u202c", "CC BY 4.0",
              "CC-BY-4.0 Licence", "CC-BY-4.0.", "CC-BY-4.0 and CC-BY-NC-ND-4.0"]
OPEN_TERMS = {"redistribution": True, "derivatives": True, "commercial": True, "attribution": True,
              "share_alike": False, "agreement": "none", "competition": False}
ENV = {"HF_TOKEN": "hf_test", "HF_ENDPOINT": "http://127.0.0.1:9"}  # a network call would fail otherwise


def _record(ds_id: str, licence: str, *, use_terms: dict | None = None, derived_from: list[str] | None = None,
            aliases: list[str] | None = None) -> str:
    text = RECORD.format(id=ds_id, licence=json.dumps(licence))
    extra = {}
    if use_terms is not None:
        extra["use_terms"] = {"value": use_terms, "source": "gen"}
    if derived_from is not None:
        extra["derived_from"] = {"value": derived_from, "source": "gen"}
    if aliases is not None:
        extra["aliases"] = aliases
    return text + (yaml.safe_dump(extra, allow_unicode=True) if extra else "")


def _write(folder: Path, records: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in records.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return _images(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    recs = {k: _record(k, v) for k, v in ATTACKS.items()}
    recs.update(
        OPEN=_record("OPEN", "CC-BY-4.0"),
        OPENLOWER=_record("OPENLOWER", "cc-by-4.0"),
        STATED=_record("STATED", "Custom terms of the Example Hospital", use_terms=OPEN_TERMS),
        UNSTATED=_record("UNSTATED", "Custom terms of the Example Hospital"),
        NCSRC=_record("NCSRC", "CC-BY-NC-4.0"),
        NDSRC=_record("NDSRC", "CC-BY-NC-ND-4.0"),
        FROMBRSET=_record("FROMBRSET", "CC-BY-4.0", derived_from=["BRSET"]),
        FROMND=_record("FROMND", "CC0-1.0", derived_from=["NDSRC"]),
        GRANDCHILD=_record("GRANDCHILD", "CC-BY-4.0", derived_from=["MIDDLE"]),
        MIDDLE=_record("MIDDLE", "CC-BY-4.0", derived_from=["OPEN", "FROMBRSET"]),
        FROMNC=_record("FROMNC", "CC-BY-4.0", derived_from=["NCSRC"]),
        FROMNOWHERE=_record("FROMNOWHERE", "CC-BY-4.0", derived_from=["Some-hospital-archive"]),
        CYCLEA=_record("CYCLEA", "CC-BY-4.0", derived_from=["CYCLEB"]),
        CYCLEB=_record("CYCLEB", "CC-BY-4.0", derived_from=["CYCLEA"]),
        **{f"LOOK{i}": _record(f"LOOK{i}", v) for i, v in enumerate(LOOKALIKES)},
    )
    return _write(tmp_path_factory.mktemp("cat"), recs)


def _publish(**kw):
    from curate.publish.folder import publish

    return publish(**kw)


def _no_images_left(out: Path) -> None:
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert _images_in(files) == [], files


# ----------------------------------------------------------------------------------- the attacks, end to end
@pytest.mark.parametrize("rights", [False, True], ids=["plain", "i-have-rights"])
@pytest.mark.parametrize("ds_id", sorted(ATTACKS))
def test_attack_strings_upload_no_image_through_the_cli(cli, tmp_path, raw, catalog, ds_id, rights):
    meta, images = raw
    out = tmp_path / "out"
    args = ["publish", ds_id, "--meta", meta, "--images", images, "--out", out, "--catalog", catalog,
            "--splits", "0.5,0.5", "--push", f"someone/{ds_id.lower()}"]
    args += ["--i-have-rights"] if rights else []
    r = cli(*args, env=ENV)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: refusing to upload the images of {ds_id}"), lines[0]
    assert "Traceback" not in r.stdout + r.stderr
    assert "\u202e" not in r.stderr  # a bidi override is shown as a code point, never rendered
    _no_images_left(out)


@pytest.mark.parametrize("ds_id", sorted(ATTACKS))
def test_attack_strings_hand_nothing_to_the_hub(tmp_path, raw, catalog, ds_id):
    meta, images = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="refusing to upload the images"):
        _publish(dataset_id=ds_id, metadata=meta, images=images, out=tmp_path / "o", catalog_dir=catalog,
                 splits="0.5,0.5", push="someone/x", api=api, i_have_rights=True)
    assert api.calls == []
    _no_images_left(tmp_path / "o")
    # the documentation alone may go, and it holds no image either
    _publish(dataset_id=ds_id, metadata=meta, images=images, out=tmp_path / "card", card_only=True,
             catalog_dir=catalog, push="someone/x", api=api)
    assert api.uploaded() and _images_in(api.uploaded()) == []
    _no_images_left(tmp_path / "card")


@pytest.mark.parametrize("licence", LOOKALIKES)
def test_lookalike_ids_are_not_the_licence(licence):
    assert exact_licence(licence) is None
    d = decide_upload(RecordTerms("X", licence))
    assert d.images == "refused" and d.card_only


@pytest.mark.parametrize("licence", ["CC-BY-4.0", "cc-by-4.0", " CC0-1.0 ", "MIT", "CC-BY-NC-SA-4.0",
                                     "CC-BY-SA", "ODbL-1.0"])
def test_exact_ids_allow_images(licence):
    assert decide_upload(RecordTerms("X", licence)).images == "allowed"


def test_exact_id_with_stricter_structured_terms_is_refused():
    nd = UseTerms(**{**OPEN_TERMS, "derivatives": False})
    assert decide_upload(RecordTerms("X", "CC-BY-4.0", use_terms=nd)).images == "refused"


def test_confusable_restriction_is_read_and_named():
    d = decide_upload(RecordTerms("X", ATTACKS["CYRILLIC"]))
    assert d.terms.agreement == "credentialed" and "credentialed" in d.reason


def test_exact_open_id_uploads_end_to_end(tmp_path, raw, catalog):
    meta, images = raw
    for ds_id in ("OPEN", "OPENLOWER"):
        api = RecordingApi()
        _publish(dataset_id=ds_id, metadata=meta, images=images, out=tmp_path / ds_id, catalog_dir=catalog,
                 splits="0.5,0.5", push="someone/open", api=api)
        assert _images_in(api.uploaded())


def test_unknown_text_is_card_only_unless_structured_terms_are_stated(tmp_path, raw, catalog):
    meta, images = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="no complete structured use_terms"):
        _publish(dataset_id="UNSTATED", metadata=meta, images=images, out=tmp_path / "u", catalog_dir=catalog,
                 push="someone/x", api=api, i_have_rights=True)
    with pytest.raises(LicenceError, match="--i-have-rights"):
        _publish(dataset_id="STATED", metadata=meta, images=images, out=tmp_path / "s", catalog_dir=catalog,
                 push="someone/x", api=api)
    assert api.calls == []
    res = _publish(dataset_id="STATED", metadata=meta, images=images, out=tmp_path / "ok", splits="0.5,0.5",
                   catalog_dir=catalog, push="someone/x", api=api, i_have_rights=True)
    assert res.push.decision.acknowledged and _images_in(api.uploaded())


# ------------------------------------------------------------------------------------ built-in records win
def _brset_relabelled(folder: Path, *, record_id: str = "BRSET", with_terms: bool) -> Path:
    rec = yaml.safe_load((builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8"))
    rec["id"] = record_id
    rec["licence"] = {"value": "CC-BY-4.0", "source": "nakayama2024", "locator": "Abstract",
                      "source_type": "primary"}
    rec.pop("use_terms")
    if with_terms:
        rec["use_terms"] = {"value": OPEN_TERMS, "source": "nakayama2024", "locator": "Abstract",
                            "source_type": "primary"}
    if record_id != "BRSET":  # replaces the built-in through its alias (and keeps the collections' name)
        rec["aliases"] = ["BRSET"]
    folder.mkdir(parents=True)
    (folder / f"{record_id}.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize("record_id", ["BRSET", "BRSET-1.0"])  # the id, and the built-in alias
@pytest.mark.parametrize("with_terms", [False, True])
@pytest.mark.parametrize("rights", [False, True])
def test_relabelled_builtin_never_uploads_images(cli, tmp_path, raw, record_id, with_terms, rights):
    meta, images = raw
    mine = _brset_relabelled(tmp_path / "mine", record_id=record_id, with_terms=with_terms)
    out = tmp_path / "out"
    r = cli("publish", record_id, "--meta", meta, "--images", images, "--out", out, "--catalog", mine,
            "--splits", "0.5,0.5", "--push", "someone/brset", *(["--i-have-rights"] if rights else []),
            env=ENV)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1, r.stderr
    if record_id == "BRSET-1.0":  # a user record named by a built-in alias is refused before anything else,
        # naming the user's file (issue 27's bad-input rule); nothing is written, nothing uploaded
        assert "is an alias of the dataset 'BRSET'" in lines[0] and "mine" in lines[0], r.stderr
    else:
        assert "refusing to upload the images" in lines[0], r.stderr
        assert "built-in record of BRSET" in lines[0] and "credentialed" in lines[0]
    _no_images_left(out)


# --------------------------------------------------------------------------------- lineage (derived_from)
@pytest.mark.parametrize("ds_id, images, decided_by", [
    ("FROMBRSET", "refused", "source BRSET"),
    ("FROMND", "refused", "source NDSRC"),
    ("MIDDLE", "refused", "source BRSET"),
    ("GRANDCHILD", "refused", "source BRSET"),  # transitive: GRANDCHILD <- MIDDLE <- FROMBRSET <- BRSET
    ("FROMNOWHERE", "needs-rights", "source Some-hospital-archive"),
    ("CYCLEA", "allowed", "CYCLEA"),  # a cycle ends; both members are open
])
def test_licences_inherit_along_lineage(catalog, ds_id, images, decided_by):
    from curate.catalog import load
    from curate.pipeline.guard import decision_for

    d = decision_for(load(catalog).get(ds_id))
    assert d.images == images, d
    assert d.decided_by.startswith(decided_by), d.decided_by


def test_non_commercial_source_makes_the_derived_terms_non_commercial(catalog):
    from curate.catalog import load
    from curate.pipeline.guard import decision_for

    d = decision_for(load(catalog).get("FROMNC"))
    assert d.images == "allowed" and d.terms.commercial is False


def test_builtin_lineage_decides_for_builtin_records():
    """MIMIC-CXR-JPG derives from MIMIC-CXR (both credentialed); MedMNIST's sources include datasets whose
    terms curate cannot read: it cannot be more open than them."""
    from curate.catalog import load
    from curate.pipeline.guard import decision_for

    cat = load()
    assert decision_for(cat.get("MedMNIST")).images == "needs-rights"
    assert decision_for(cat.get("MedMNIST")).decided_by.startswith("source ")


def test_derived_push_refused_and_card_names_the_source(tmp_path, raw, catalog):
    from curate.cards.build import build_card

    meta, images = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="decided by source BRSET"):
        _publish(dataset_id="FROMBRSET", metadata=meta, images=images, out=tmp_path / "o",
                 catalog_dir=catalog, push="someone/x", api=api, i_have_rights=True)
    assert api.calls == []
    res = build_card("FROMBRSET", out=tmp_path / "card", catalog_dir=catalog)
    for key in ("datasheet_md", "hub_card"):
        text = res.paths[key].read_text(encoding="utf-8")
        assert "decided by source BRSET (derived_from)" in text, key
