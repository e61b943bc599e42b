"""`curate publish` end to end on a generated image dataset: layout, values, privacy, card, bad input.

The helpers at the top (generated PNGs, metadata with distinctive ids, catalog YAMLs) are shared with
``test_publish_push.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

OPEN_YAML = """\
id: {id}
name: Generated test set
modality: {{value: [fundus], source: gen}}
anatomy: {{value: eye, source: gen}}
countries: {{value: [BRA], source: gen}}
images: {{value: 30, source: gen}}
demographics_reported: {{value: [age, sex], source: gen}}
licence: {{value: "{licence}", source: gen}}
references:
  gen: {{title: Generated for the curate publish tests, year: 2025}}
"""


def write_catalog(folder: Path) -> Path:
    """OPENSET (CC-BY-4.0, open), MYSTERY (unrecognised terms: unknown), DUASET (data use agreement)."""
    folder.mkdir(parents=True, exist_ok=True)
    for ds_id, lic in (("OPENSET", "CC-BY-4.0"), ("MYSTERY", "Custom terms of the Example Hospital"),
                       ("DUASET", "Example Data Use Agreement")):
        (folder / f"{ds_id}.yaml").write_text(OPEN_YAML.format(id=ds_id, licence=lic), encoding="utf-8")
    return folder


def make_dataset(root: Path, *, n_patients: int = 12, n_images: int = 30, seed: int = 1,
                 split_col: bool = False) -> tuple[Path, Path, pd.DataFrame]:
    """``root/images/IMGID-*.png`` + ``root/meta.csv``; returns (metadata, images, frame with sha256)."""
    rng = np.random.default_rng(seed)
    img_dir = root / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    patients = [f"PID{rng.integers(10**6, 10**7)}QX" for _ in range(n_patients)]
    rows = []
    for i in range(n_images):
        name = f"IMGID{rng.integers(10**6, 10**7)}ZZ"
        pixels = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        path = img_dir / f"{name}.png"
        Image.fromarray(pixels).save(path)
        rows.append({
            "image_id": name,
            "patient_id": patients[i % n_patients],
            "label": str(rng.choice(["normal", "dr"])),
            "sex": str(rng.choice(["F", "M"])),
            "age": str(int(rng.integers(20, 99))),
            "exam_date": f"2019-0{rng.integers(1, 9)}-1{rng.integers(0, 9)}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        })
    df = pd.DataFrame(rows)
    if split_col:
        pat_split = {p: ("train" if k < n_patients - 4 else "test") for k, p in enumerate(patients)}
        df["split"] = df["patient_id"].map(pat_split)
    meta = root / "meta.csv"
    df.drop(columns=["sha256"]).to_csv(meta, index=False)
    return meta, img_dir, df


# ----------------------------------------------------------------------------------------------- fixtures
ID_COLUMNS = ("image_id", "patient_id", "exam_date")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, raw, catalog):
    """One publish run shared by the read-only tests (patient-level 0.6/0.2/0.2 splits)."""
    from curate.publish.folder import publish

    meta, images, _ = raw
    out = tmp_path_factory.mktemp("pub") / "OPENSET-hub"
    res = publish("OPENSET", metadata=meta, images=images, out=out, splits="0.6,0.2,0.2", seed=3,
                  catalog_dir=catalog, max_shard_size="2KB")
    return out, res


def _load(out: Path, tmp_path: Path):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))


def _by_hash(dd) -> dict[str, tuple[str, dict]]:
    """sha256 of each published image's bytes → (split, row without the image)."""
    import datasets

    rows = {}
    for split, d in dd.items():
        raw_bytes = d.cast_column("image", datasets.Image(decode=False))
        for r in raw_bytes:
            h = hashlib.sha256(r["image"]["bytes"]).hexdigest()
            rows[h] = (split, {k: v for k, v in r.items() if k != "image"})
    return rows


# ----------------------------------------------------------------------------------------------- layout
def test_load_dataset_features_splits_and_rows(built, raw, tmp_path):
    import datasets

    out, res = built
    _, _, truth = raw
    dd = _load(out, tmp_path)
    assert list(dd) == ["train", "validation", "test"]
    f = dd["train"].features
    assert isinstance(f["image"], datasets.Image)
    assert isinstance(f["label"], datasets.ClassLabel) and f["label"].names == ["dr", "normal"]
    assert isinstance(f["sex"], datasets.ClassLabel) and f["sex"].names == ["F", "M"]
    assert f["age"] == datasets.Value("int64")
    assert f["patient"] == datasets.Value("string")
    assert sum(len(d) for d in dd.values()) == len(truth) == 30
    assert {k: len(d) for k, d in dd.items()} == res.splits
    # several shards per split were written (2KB limit) and each is in the card's data_files glob
    shards = sorted(p.name for p in (out / "data").glob("*.parquet"))
    assert len([s for s in shards if s.startswith("train-")]) > 1
    assert all(s.split("-of-")[1] == f"{len([t for t in shards if t.startswith(s.split('-')[0] + '-')]):05d}"
               ".parquet" for s in shards)
    img = dd["test"][0]["image"]
    assert np.asarray(img).shape == (12, 16, 3)


def test_values_match_the_source_images(built, raw, tmp_path):
    """Every published row is one source image (same bytes) with its own label, sex and top-coded age."""
    out, _ = built
    _, _, truth = raw
    dd = _load(out, tmp_path)
    rows = _by_hash(dd)
    assert set(rows) == set(truth["sha256"])
    names = dd["train"].features["label"].names
    sexes = dd["train"].features["sex"].names
    for t in truth.itertuples():
        _, r = rows[t.sha256]
        assert names[r["label"]] == t.label
        assert sexes[r["sex"]] == t.sex
        assert r["age"] == min(int(t.age), 90)


def test_patient_pseudonyms_are_consistent_and_splits_disjoint(built, raw, tmp_path):
    out, res = built
    _, _, truth = raw
    rows = _by_hash(_load(out, tmp_path))
    pseudo = {t.sha256: rows[t.sha256][1]["patient"] for t in truth.itertuples()}
    pairs = {(t.patient_id, pseudo[t.sha256]) for t in truth.itertuples()}
    # a bijection between original patients and pseudonyms
    assert len(pairs) == truth["patient_id"].nunique() == len({p for _, p in pairs})
    assert all(p.startswith("patient_") for _, p in pairs)
    split_of: dict[str, set[str]] = {}
    for split, r in rows.values():
        split_of.setdefault(r["patient"], set()).add(split)
    assert max(len(s) for s in split_of.values()) == 1
    assert res.patients_across_splits == 0


def test_no_identifier_values_in_any_output(built, raw):
    import pyarrow.parquet as pq

    out, res = built
    _, _, truth = raw
    secrets = set(truth["image_id"]) | set(truth["patient_id"]) | set(truth["exam_date"])
    texts = [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".md", ".html", ".json")]
    for shard in (out / "data").glob("*.parquet"):
        table = pq.read_table(shard)
        texts.append(json.dumps(table.drop(["image"]).to_pylist()))
        texts.append(json.dumps([r["path"] for r in table.column("image").to_pylist()]))
        assert "exam_date" not in table.column_names and "image_id" not in table.column_names
        assert "patient_id" not in table.column_names
    blob = "\n".join(texts)
    assert not [s for s in secrets if s in blob]
    assert set(res.dropped_columns) == {"image_id", "exam_date"}
    assert res.pseudonymised == "patient_id"


def test_card_round_trips_with_configs_and_splits(built):
    from huggingface_hub import DatasetCard

    out, res = built
    card = DatasetCard.load(out / "README.md")
    assert card.data.configs == [{"config_name": "default", "data_files": [
        {"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")]}]
    info = card.data.dataset_info
    assert [(s["name"], s["num_examples"]) for s in info["splits"]] == list(res.splits.items())
    assert {f["name"] for f in info["features"]} == {"image", "patient", "label", "sex", "age"}
    assert card.data.license == "cc-by-4.0"
    assert "CC-BY-4.0" in card.text and "open" in card.text
    again = DatasetCard(str(card))
    assert again.data.to_dict() == card.data.to_dict()
    croissant = json.loads((out / "croissant.json").read_text())
    files = {d["contentUrl"]: d["sha256"] for d in croissant["distribution"] if d.get("contentUrl", "")
             .startswith("data/")}
    assert files == {f"data/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in (out / "data").glob("*.parquet")}
    assert (out / "datasheet.md").exists()


def test_croissant_reads_the_published_records(built, raw):
    """mlcroissant validates croissant.json and reads every record (image, labels, split) from the shards."""
    import logging

    import mlcroissant as mlc

    out, res = built
    _, _, truth = raw
    logging.getLogger("absl").setLevel(logging.ERROR)
    ds = mlc.Dataset(jsonld=str(out / "croissant.json"))  # raises on validation errors
    recs = list(ds.records("default"))
    assert len(recs) == len(truth)
    splits = pd.Series([r["default/split"].decode() for r in recs]).value_counts().to_dict()
    assert splits == res.splits
    pixels = {np.asarray(r["default/image"]).tobytes() for r in recs}
    assert pixels == {np.asarray(Image.open(p)).tobytes() for p in raw[1].glob("*.png")}


def test_split_column_is_honoured(tmp_path, catalog):
    from curate.publish.folder import publish

    meta, images, truth = make_dataset(tmp_path / "raw", split_col=True, seed=7)
    out = tmp_path / "out"
    res = publish("OPENSET", metadata=meta, images=images, out=out, catalog_dir=catalog)
    rows = _by_hash(_load(out, tmp_path))
    assert {t.sha256: t.split for t in truth.itertuples()} == {h: s for h, (s, _) in rows.items()}
    assert res.splits == truth["split"].value_counts().reindex(["train", "test"]).to_dict()
    assert "split" not in _load(out, tmp_path)["train"].features


def test_keep_list_publishes_only_kept_images_and_card_says_so(tmp_path, catalog, raw):
    from huggingface_hub import DatasetCard

    from curate.publish.folder import publish

    meta, images, truth = raw
    kept = truth.iloc[::3]  # 10 of 30
    keep = tmp_path / "keep.txt"
    keep.write_text("# from curate dedup\n" + "".join(f"{i}\n" for i in kept["image_id"]))
    out = tmp_path / "out"
    res = publish("OPENSET", metadata=meta, images=images, out=out, keep=keep, splits="0.5,0.5",
                  catalog_dir=catalog)
    rows = _by_hash(_load(out, tmp_path))
    assert set(rows) == set(kept["sha256"])
    assert res.removed_by_keep == 20 and list(res.splits) == ["train", "test"]
    text = DatasetCard.load(out / "README.md").text
    assert "20 of 30 images were removed" in text


@pytest.mark.parametrize("n_patients, expected", [(40, {"train": "*", "test": "<11"}),  # 30/10: complement
                                                   (48, {"train": 36, "test": 12})])  # one image a patient
def test_patient_counts_per_split_are_suppressed(tmp_path, catalog, n_patients, expected):
    from curate.publish.folder import publish

    meta, images, _ = make_dataset(tmp_path / "raw", n_patients=n_patients, n_images=n_patients, seed=2)
    out = tmp_path / "o"
    res = publish("OPENSET", metadata=meta, images=images, out=out, splits="0.75,0.25", catalog_dir=catalog)
    assert res.summary()["patients"] == expected
    text = (out / "README.md").read_text()
    for name, v in expected.items():  # images are the patients' images: hidden with them
        assert f"| {name} | {v} | {v} |" in text


def test_column_types_subfolders_and_explicit_roles(tmp_path, catalog):
    """Relative paths into sub-folders; a numeric label forced to ClassLabel; unique measurements kept;
    an id-like column dropped; a patient-less table split per image with a warning."""
    import datasets

    from curate.publish.folder import publish

    rng = np.random.default_rng(5)
    rows = []
    for i in range(24):
        sub = tmp_path / "imgs" / f"site{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(sub / f"x{i}.png")
        rows.append({"file": f"site{i % 2}/x{i}.png", "grade": str(i % 3), "bmi": f"{20 + rng.random():.4f}",
                     "accession_number": f"ACC{i:05d}", "site": f"site{i % 2}"})
    pd.DataFrame(rows).to_csv(tmp_path / "m.csv", index=False)
    res = publish("OPENSET", metadata=tmp_path / "m.csv", images=tmp_path / "imgs", out=tmp_path / "o",
                  columns=["label=grade"], splits="0.5,0.5", catalog_dir=catalog, keep_columns=["bmi"])
    f = _load(tmp_path / "o", tmp_path)["train"].features
    assert isinstance(f["grade"], datasets.ClassLabel) and f["grade"].names == ["0", "1", "2"]
    assert f["bmi"] == datasets.Value("float64")
    assert isinstance(f["site"], datasets.ClassLabel)
    assert "accession_number" not in f and "accession_number" in res.dropped_columns
    assert "patient" not in f and any("per image" in w for w in res.warnings)
    assert sum(res.splits.values()) == 24


# ----------------------------------------------------------------------------------------------- bad input
def _one_error_line(r) -> str:
    assert r.exit_code != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    return lines[0]


def _base(meta, images, out, catalog):
    return ["publish", "OPENSET", "--meta", meta, "--images", images, "--out", out, "--catalog", catalog]


def test_cli_builds_folder_and_prints_no_ids(cli, tmp_path, raw, catalog):
    meta, images, truth = raw
    r = cli(*_base(meta, images, tmp_path / "o", catalog), "--splits", "0.5,0.5", "--json")
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert list(summary["splits"]) == ["train", "test"]  # counts protected (30 images of few patients)
    shown = [*summary["splits"].values(), *summary["patients"].values()]
    assert all(v in ("<11", "*") or v >= 11 for v in shown)
    assert not [s for s in set(truth["patient_id"]) | set(truth["image_id"]) if s in r.stdout + r.stderr]


@pytest.mark.parametrize("case", ["missing", "empty", "header-only", "unreadable", "missing-image",
                                  "extra-image", "bad-column", "bad-age", "bad-keep",
                                  "few-patients", "bad-split-name", "bad-role"])
def test_bad_input_gives_one_line_and_no_output(cli, tmp_path, raw, catalog, case):
    import shutil

    meta, images, truth = raw
    work = tmp_path / "in"
    shutil.copytree(images, work / "images")
    shutil.copy(meta, work / "meta.csv")
    m, im = work / "meta.csv", work / "images"
    extra: list[str] = []
    expect = ""
    if case == "missing":
        m = work / "nope.csv"
        expect = "does not exist"
    elif case == "empty":
        m.write_text("")
        expect = "empty"
    elif case == "header-only":
        m.write_text("image_id,patient_id\n")
        expect = "no data rows"
    elif case == "unreadable":
        m = work / "meta.parquet"
        m.write_bytes(b"this is not parquet at all")
        expect = "cannot read"
    elif case == "missing-image":
        (im / f"{truth['image_id'][4]}.png").unlink()
        expect = "missing from the images folder"
    elif case == "extra-image":
        shutil.copy(im / f"{truth['image_id'][0]}.png", im / "stray.png")
        expect = "not in the metadata"
    elif case == "bad-column":
        extra = ["--column", "label=diagnosis"]
        expect = "column 'diagnosis'"
    elif case == "bad-age":
        df = pd.read_csv(m, dtype=str)
        df.loc[5, "age"] = "fifty"
        df.to_csv(m, index=False)
        expect = "non-numeric"
    elif case == "bad-keep":
        (work / "keep.txt").write_text("IMGID-not-in-this-dataset\n")
        extra = ["--keep", work / "keep.txt"]
        expect = "keep-list"
    elif case == "few-patients":
        # two patients for three splits: one split must stay empty (with 12 patients, 0.98,0.01,0.01 now
        # gives every split one patient: the allocation runs over the whole sample, issue 16)
        df = pd.read_csv(m, dtype=str)
        df["patient_id"] = np.where(np.arange(len(df)) % 2 == 0, "PIDA", "PIDB")
        df.to_csv(m, index=False)
        extra = ["--splits", "0.8,0.1,0.1"]
        expect = "would be empty"
    elif case == "bad-split-name":
        df = pd.read_csv(m, dtype=str)
        df["split"] = "train set"
        df.to_csv(m, index=False)
        expect = "names the hub rejects"
    elif case == "bad-role":
        extra = ["--column", "colour=sex"]
        expect = "unknown column role"
    out = tmp_path / "out"
    line = _one_error_line(cli(*_base(m, im, out, catalog), *extra))
    assert expect in line
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]
    assert not [s for s in set(truth["patient_id"]) | set(truth["image_id"]) if s in line]


def test_failed_rebuild_keeps_previous_output(cli, tmp_path, raw, catalog):
    meta, images, _ = raw
    out = tmp_path / "out"
    assert cli(*_base(meta, images, out, catalog), "--splits", "0.5,0.5").exit_code == 0
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    _one_error_line(cli(*_base(meta, images, out, catalog), "--column", "age=nope"))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_hub_card_column_types_match_features(tmp_path, catalog):
    """The metadata is read as text, but the card's "Dataset Structure" table must give the published types:
    int64 / float64 features are integer / float there (as in Croissant), not text."""
    from curate.publish.folder import publish

    meta, images, df = make_dataset(tmp_path / "raw", n_patients=12, n_images=24, seed=4)
    rng = np.random.default_rng(0)
    frame = pd.read_csv(meta, dtype=str)
    frame["visits"] = [str(v) for v in rng.integers(0, 500, len(frame))]  # > MAX_CLASSES values: int64
    frame["hba1c"] = [f"{v:.2f}" for v in rng.uniform(4, 12, len(frame))]  # float64
    frame.to_csv(meta, index=False)
    out = tmp_path / "o"
    res = publish("OPENSET", metadata=meta, images=images, out=out, splits="0.5,0.5", catalog_dir=catalog,
                  keep_columns=["visits", "hba1c"])
    assert res.features["visits"] == "Value(int64)" and res.features["hba1c"] == "Value(float64)"
    text = (out / "README.md").read_text()
    structure = text[text.index("## Dataset Structure"):text.index("## Dataset Creation")]
    types = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([^`]+)` \| (\w+) \|", structure, re.M)}
    assert types["visits"] == "integer" and types["hba1c"] == "float"
    assert types["sex"] == "text"
    crois = json.loads((out / "croissant.json").read_text())
    by_name = {f["name"]: f["dataType"] for rs in crois["recordSet"] for f in rs["field"]}
    assert by_name["visits"] == "sc:Integer" and by_name["hba1c"] == "sc:Float"


def test_shard_size_is_read_as_datasets_reads_it():
    """--max-shard-size 500MB is 500,000,000 bytes, as `datasets` reads it (its own parser is the oracle)."""
    from datasets.utils.py_utils import convert_file_size_to_int

    from curate.pipeline.publish import parse_size
    from curate.validation import ParameterError

    for size in ("500MB", "2GB", "1GiB", "64KB", "10MiB"):
        assert parse_size(size) == convert_file_size_to_int(size), size
    assert parse_size("500MB") == 500_000_000 and parse_size(4096) == 4096 and parse_size("4096") == 4096
    with pytest.raises(ParameterError, match="max_shard_size expects a size"):
        parse_size("lots")
    with pytest.raises(ParameterError, match="max_shard_size must be between 1KB and 50GB"):
        parse_size("1B")
