"""Adversarial tests of the roles / identifier / allow-list policy (:mod:`curate.policy.roles`).

Each attack puts real-looking identifiers (record numbers, CPF, SSN, NHS numbers, names in free text,
numeric patient ids, UIDs, dates of birth, e-mail, telephone) into the metadata, runs a command as a user
would (publish, build-card, audit, cluster, sample, probe) and asserts the *absence* of every raw value in
every file the command wrote — parquet shards decoded with pyarrow, README.md, croissant.json, datasheets,
results, predictions — and in its stdout / stderr. A column that looks like an identifier and is given a
role is refused with one ``error:`` line naming the option and the column, and nothing is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_publish import write_catalog

FIRST = ["Maria", "João", "Ana", "Carlos", "José", "Paula", "Pedro", "Lucas", "Beatriz", "Rafael", "Helena",
         "Bruno"]
LAST = ["Silva", "Souza", "Pereira", "Lima", "Santos", "Oliveira", "Costa", "Almeida"]
N_PATIENTS, PER_PATIENT = 24, 2

#: Identifier columns: name → value of patient k (one value per patient; repeated on each of its images).
SECRET_COLUMNS = {
    "medical_record": lambda k: f"{4500000 + k}",
    "cpf": lambda k: f"{100 + k:03d}.{200 + k:03d}.{300 + k:03d}-{10 + k:02d}",
    "notes": lambda k: f"Seen by Dr. {LAST[k % 8]}; {_name(k)} reports blurred vision",
    "pid": lambda k: f"{70001 + k}",
    "case_id": lambda k: f"CASE-{k + 1:05d}",
    "person_id": lambda k: f"PRS{910000 + k}",
    "ref": lambda k: f"MRN{k + 1:07d}",  # innocuous name, MRN-shaped values
    "born": lambda k: f"19{40 + k}-0{1 + k % 9}-{10 + k % 18}",  # date of birth
    "reach": lambda k: f"{FIRST[k % 12].lower()}.{LAST[k % 8].lower()}{k}@mail.example.org",
    "tel": lambda k: f"+55 11 9{8000 + k:04d}-{1000 + k:04d}",
    "uid": lambda k: f"1.2.840.113619.2.55.3.{604688119 + k}",
    "obs": lambda k: _name(k),  # names of people under an innocuous column name
    "code": lambda k: f"{880000 + 7 * k}",  # numeric id under an innocuous name
    "sec": lambda k: f"{500 + k:03d}-{40 + k:02d}-{6000 + k:04d}",  # SSN-shaped
    "nhs": lambda k: f"{400 + k:03d} {500 + k:03d} {6000 + k:04d}",  # NHS-number-shaped
    "patient_name": lambda k: _name(k),
    "full_name": lambda k: f"{FIRST[k % 12]} da {LAST[k % 8]}",
}


def _name(k: int) -> str:
    return f"{FIRST[k % 12]} {LAST[k % 8]}"


def people(n_patients: int = N_PATIENTS, per: int = PER_PATIENT) -> pd.DataFrame:
    """One row per image: harmless role columns plus every identifier column of :data:`SECRET_COLUMNS`."""
    rows = []
    for k in range(n_patients):
        for j in range(per):
            row = {"image_id": f"IMG{k:03d}{j}", "patient_id": f"P{k + 1:04d}",
                   "sex": "F" if k % 2 else "M", "age": str(20 + (k * 7) % 70),
                   "label": str((k + j) % 2), "camera": "Canon CR" if k % 3 else "NIKON NF5050"}
            row.update({c: f(k) for c, f in SECRET_COLUMNS.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def secrets_of(df: pd.DataFrame, cols=SECRET_COLUMNS) -> set[str]:
    """Every raw identifier value (and, for free text, the names inside it)."""
    out = {str(v) for c in cols for v in df[c]}
    out |= {_name(k) for k in range(N_PATIENTS)} | {LAST[k % 8] + ";" for k in range(N_PATIENTS)}
    out |= set(df["patient_id"])
    return out


def found(text: str, secrets: set[str]) -> list[str]:
    """Secrets occurring in ``text`` as whole tokens (not inside a longer hex or digit run)."""
    return sorted(s for s in secrets
                  if re.search(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])", text))


def every_file_text(*roots: Path) -> str:
    """All text of every file under ``roots``: parquet decoded (image bytes left out), the rest as text."""
    import pyarrow.parquet as pq

    parts = []
    for root in roots:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for p in files:
            if p.suffix == ".parquet":
                t = pq.read_table(p)
                if "image" in t.column_names:
                    parts.append(json.dumps([r["path"] for r in t.column("image").to_pylist()]))
                    t = t.drop(["image"])
                parts.append(json.dumps(t.to_pylist(), default=str, ensure_ascii=False))
                parts.append(json.dumps(t.schema.to_string()))
            elif p.suffix.lower() not in (".png", ".jpg"):
                parts.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def one_error_line(r, *names: str) -> str:
    assert r.exit_code != 0, r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for n in names:
        assert n in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("people")
    df = people()
    img = root / "images"
    img.mkdir()
    rng = np.random.default_rng(0)
    for name in df["image_id"]:
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(img / f"{name}.png")
    df.to_csv(root / "meta.csv", index=False)
    return root / "meta.csv", img, df, write_catalog(root / "catalog")


def _publish_args(raw, out, *extra):
    meta, img, _, catalog = raw
    return ["publish", "OPENSET", "--meta", meta, "--images", img, "--out", out, "--catalog", catalog,
            "--splits", "0.5,0.5", *extra]


# ----------------------------------------------------------------------------------------------- detection
@pytest.mark.parametrize("col", sorted(SECRET_COLUMNS))
def test_every_identifier_shape_is_detected(col):
    from curate.policy.identifiers import identifier_reason

    df = people()
    why = identifier_reason(col, df[col], patients=df["patient_id"])
    assert why, col
    assert not found(why, secrets_of(df))  # the reason never quotes a value


@pytest.mark.parametrize("col, values", [
    ("camera", ["Canon CR", "NIKON NF5050", "Topcon Maestro"] * 20),
    ("quality", ["Good Quality", "Bad Quality", "Usable Image"] * 20),
    ("diagnosis", ["Proliferative Diabetic Retinopathy", "Macular Edema", "Normal"] * 20),
    ("bmi", [f"{20 + i / 7:.3f}" for i in range(60)]),
    ("visits", [str(v) for v in np.random.default_rng(1).integers(0, 500, 60)]),
    ("age", [str(20 + i % 50) for i in range(60)]),
    ("site", [f"site{i % 3}" for i in range(60)]),
])
def test_ordinary_columns_are_not_identifiers(col, values):
    from curate.policy.identifiers import identifier_reason

    assert identifier_reason(col, pd.Series(values), numeric_ok=col == "age") is None


# ----------------------------------------------------------------------------------------------- publish
def test_publish_writes_only_the_allow_list_and_no_identifier_value(cli, tmp_path, raw):
    import datasets

    meta, img, df, _ = raw
    out = tmp_path / "hub"
    r = cli(*_publish_args(raw, out))
    assert r.exit_code == 0, r.stderr
    blob = every_file_text(out) + r.stdout + r.stderr
    assert not found(blob, secrets_of(df))
    dd = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert set(dd["train"].features) == {"image", "patient", "sex", "age", "label", "camera"}
    assert sum(len(d) for d in dd.values()) == len(df)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "HMAC-SHA256" in card
    for col in SECRET_COLUMNS:  # withheld columns are listed by name
        assert f"`{col}`" in card


ROLE_ATTACKS = ["label=patient_name", "sex=full_name", "sex=obs", "label=obs", "site=notes", "device=cpf",
                "race=code", "ethnicity=ref", "nationality=born", "site=reach", "device=uid", "site=tel",
                "race=sec", "site=nhs", "label=pid", "label=case_id", "label=person_id",
                "label=medical_record", "age=pid", "split=obs"]


@pytest.mark.parametrize("spec", ROLE_ATTACKS)
def test_publish_refuses_a_role_on_an_identifier_column(cli, tmp_path, raw, spec):
    _, _, df, _ = raw
    out = tmp_path / "hub"
    r = cli(*_publish_args(raw, out, "--column", spec))
    line = one_error_line(r, "--column", spec.split("=")[1], "identifier")
    assert not found(line + r.stdout, secrets_of(df))
    assert not out.exists() and not list(tmp_path.glob(".hub.tmp*"))


def test_publish_split_col_on_names_is_refused_naming_the_option(cli, tmp_path, raw):
    _, _, df, _ = raw
    r = cli(*_publish_args(raw, tmp_path / "hub", "--split-col", "obs"))
    line = one_error_line(r, "--split-col obs", "identifier")
    assert not found(line, secrets_of(df)) and not (tmp_path / "hub").exists()


def test_publish_withholds_an_inferred_role_whose_values_are_names(cli, tmp_path, raw):
    meta, img, df, catalog = raw
    m = tmp_path / "m.csv"
    df.assign(site=df["obs"]).to_csv(m, index=False)  # a column *named* site, holding people's names
    out = tmp_path / "hub"
    r = cli("publish", "OPENSET", "--meta", m, "--images", img, "--out", out, "--catalog", catalog,
            "--splits", "0.5,0.5")
    assert r.exit_code == 0, r.stderr
    assert not found(every_file_text(out) + r.stdout + r.stderr, secrets_of(df))


def test_keep_column_publishes_only_what_is_named_and_warns(cli, tmp_path, raw):
    import pyarrow.parquet as pq

    _, _, df, _ = raw
    out = tmp_path / "hub"
    r = cli(*_publish_args(raw, out, "--keep-column", "obs"))
    assert r.exit_code == 0, r.stderr
    cols = set(pq.read_table(next((out / "data").glob("*.parquet"))).column_names)
    assert "obs" in cols and not cols & (set(SECRET_COLUMNS) - {"obs"})
    assert "--keep-column obs" in r.stdout and "identifier" in r.stdout
    # the other identifier columns still do not leak
    others = secrets_of(df, [c for c in SECRET_COLUMNS if c not in ("obs", "notes")]) - {_name(k) for k in
                                                                                        range(N_PATIENTS)}
    assert not found(every_file_text(out), others)


@pytest.mark.parametrize("col", ["patient_id", "image_id", "nope"])
def test_keep_column_cannot_publish_the_patient_or_image_ids(cli, tmp_path, raw, col):
    out = tmp_path / "hub"
    one_error_line(cli(*_publish_args(raw, out, "--keep-column", col)), "--keep-column", col)
    assert not out.exists()


# ----------------------------------------------------------------------------------------------- pseudonyms
def _published(out: Path, df: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Raw patient id → (published pseudonym, split), matched through each image's bytes."""
    import hashlib

    import pyarrow.parquet as pq

    by_hash = {}
    for shard in (out / "data").glob("*.parquet"):
        for row in pq.read_table(shard).to_pylist():
            by_hash[hashlib.sha256(row["image"]["bytes"]).hexdigest()] = (row["patient"],
                                                                         shard.name.split("-")[0])
    img = out.parent / "_img"
    return {p: by_hash[hashlib.sha256((img / f"{i}.png").read_bytes()).hexdigest()]
            for p, i in zip(df["patient_id"], df["image_id"])}


def _pseudonyms(out: Path, df: pd.DataFrame) -> dict[str, str]:
    return {p: v[0] for p, v in _published(out, df).items()}


@pytest.fixture
def linked(tmp_path, raw):
    """The raw images next to the output, so tests can map each published row back to its patient."""
    import shutil

    _, img, _, _ = raw
    shutil.copytree(img, tmp_path / "_img")
    return tmp_path


def test_pseudonyms_are_keyed_not_in_id_order_and_key_stays_outside(cli, linked, raw):
    import hashlib
    import hmac

    from curate.policy.pseudonyms import generate_key_file

    _, _, df, _ = raw
    key = generate_key_file(linked / "k1.key")
    out = linked / "hub"
    assert cli(*_publish_args(raw, out, "--key-file", key)).exit_code == 0
    mapping = _pseudonyms(out, df)
    ids = sorted(mapping)  # P0001, P0002, ... sequential
    assert len(set(mapping.values())) == len(ids)
    assert [mapping[i] for i in ids] != sorted(mapping.values())  # numbering does not follow the ids
    secret = bytes.fromhex(key.read_text().strip())
    # the pseudonym is the HMAC under the key: recomputable with it, and only with it
    msg = f"patient\x00OPENSET\x00{ids[0]}".encode()
    assert mapping[ids[0]] == "patient_" + hmac.new(secret, msg, hashlib.sha256).hexdigest()[:16]
    assert mapping[ids[0]] != "patient_" + hmac.new(b"\0" * 32, msg, hashlib.sha256).hexdigest()[:16]
    assert mapping[ids[0]] != "patient_" + hashlib.sha256(msg).hexdigest()[:16]
    blob = every_file_text(out)
    assert secret.hex() not in blob and not list(out.rglob("*.key"))
    assert str(key) not in blob and "k1.key" not in blob

    # another key gives unrelated pseudonyms for the same ids and the same --seed; the same key, the same
    other = linked / "hub2"
    assert cli(*_publish_args(raw, other, "--key-file", generate_key_file(linked / "k2.key"))).exit_code == 0
    assert not set(_pseudonyms(other, df).values()) & set(mapping.values())
    # the splits are drawn on the pseudonyms: the printed --seed alone does not say who is in which split
    splits_1 = {p: v[1] for p, v in _published(out, df).items()}
    assert splits_1 != {p: v[1] for p, v in _published(other, df).items()}
    again = linked / "hub3"
    assert cli(*_publish_args(raw, again, "--key-file", key)).exit_code == 0
    assert _pseudonyms(again, df) == mapping


def test_a_key_inside_the_output_folder_is_refused(cli, tmp_path, raw):
    from curate.policy.pseudonyms import generate_key_file

    out = tmp_path / "hub"
    assert cli(*_publish_args(raw, out)).exit_code == 0
    key = generate_key_file(out / "my.key")
    one_error_line(cli(*_publish_args(raw, out, "--key-file", key)), "--key-file", "outside")


def test_default_key_is_created_under_the_config_home_not_the_output(cli, tmp_path, raw, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    out = tmp_path / "hub"
    r = cli(*_publish_args(raw, out))
    assert r.exit_code == 0, r.stderr
    key = tmp_path / "cfg" / "curate" / "pseudonym.key"
    assert key.is_file() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert "created the pseudonym key" in r.stdout
    assert key.read_text().strip() not in every_file_text(out)


# ----------------------------------------------------------------------------------------------- build-card
@pytest.mark.parametrize("spec", ["sex=obs", "label=notes", "site=cpf", "device=code"])
def test_build_card_refuses_a_role_on_an_identifier_column(cli, tmp_path, raw, spec):
    meta, _, df, _ = raw
    out = tmp_path / "card"
    r = cli("build-card", "BRSET", "--meta", meta, "--column", spec, "--out", out)
    line = one_error_line(r, "--column", spec.split("=")[1])
    assert not found(line + r.stdout, secrets_of(df)) and not out.exists()


def test_build_card_never_shows_identifier_values(cli, tmp_path, raw):
    meta, _, df, _ = raw
    m = tmp_path / "m.csv"
    df.assign(site=df["obs"]).to_csv(m, index=False)
    out = tmp_path / "card"
    r = cli("build-card", "BRSET", "--meta", m, "--out", out)
    assert r.exit_code == 0, r.stderr
    assert not found(every_file_text(out) + r.stdout + r.stderr, secrets_of(df))
    assert "`site` (site): looks like an identifier" in (out / "datasheet.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------- audit
@pytest.fixture(scope="module")
def preds(tmp_path_factory):
    rng = np.random.default_rng(3)
    df = people()
    rows = []
    split = np.where((np.arange(len(df)) // PER_PATIENT) % 4, "test", "validation")  # patient-level
    for seed in (0, 1):
        y = df["label"].astype(int).to_numpy()
        rows.append(df.assign(id=df["image_id"], seed=seed, split=split,
                              y=y, score_y=np.clip(0.6 * y + 0.4 * rng.random(len(df)), 0, 1),
                              patient_name=df["obs"]))
    path = tmp_path_factory.mktemp("preds") / "preds.parquet"
    pd.concat(rows, ignore_index=True).to_parquet(path, index=False)
    return path, df


@pytest.mark.parametrize("opts", [["--groups", "patient_name"], ["--groups", "sex,obs"],
                                  ["--groups", "sex", "--intersect", "sex,cpf"], ["--groups", "code"],
                                  ["--groups", "tel"]])
def test_audit_refuses_identifier_groups(cli, tmp_path, preds, opts):
    path, df = preds
    out = tmp_path / "audit"
    r = cli("audit", path, "--label-cols", "y", *opts, "--patient-col", "patient_id", "--out", out)
    bad = opts[-1].split(",")[-1]
    line = one_error_line(r, opts[-2], bad, "identifier")
    assert not found(line + r.stdout, secrets_of(df)) and not out.exists()


def test_audit_outputs_carry_no_identifier_value(cli, tmp_path, preds):
    path, df = preds
    out = tmp_path / "audit"
    r = cli("audit", path, "--label-cols", "y", "--groups", "sex,camera", "--patient-col", "patient_id",
            "--out", out)
    assert r.exit_code == 0, r.stderr
    assert not found(every_file_text(out) + r.stdout + r.stderr, secrets_of(df))


# ------------------------------------------------------------------------------------------- cluster, sample
@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    from curate.engine.embeddings import from_array

    df = people()
    root = tmp_path_factory.mktemp("emb")
    X = np.random.default_rng(0).normal(size=(len(df), 8)).astype(np.float32)
    from_array(X, ids=df["image_id"].tolist(), normalize=False).save_parquet(root / "emb.parquet")
    meta = root / "meta.csv"
    df.assign(id=df["image_id"], patient_name=df["obs"]).to_csv(meta, index=False)
    return root / "emb.parquet", meta, df


@pytest.mark.parametrize("attr", ["patient_name", "sex,notes", "ref", "born"])
def test_cluster_refuses_identifier_attributes(cli, tmp_path, emb, attr):
    e, meta, df = emb
    out = tmp_path / "clusters.parquet"
    r = cli("cluster", e, "--k", "2", "--meta", meta, "--attr", attr, "--out", out,
            "--summary", tmp_path / "summary.json")
    line = one_error_line(r, "--attr", attr.split(",")[-1], "identifier")
    assert not found(line + r.stdout, secrets_of(df))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("col", ["patient_name", "cpf", "obs", "pid", "uid"])
def test_sample_refuses_identifier_balance_by(cli, tmp_path, emb, col):
    _, meta, df = emb
    out = tmp_path / "sample.csv"
    r = cli("sample", meta, "--balance-by", col, "--patient-col", "patient_id", "--out", out)
    line = one_error_line(r, "--balance-by", col)
    assert not found(line + r.stdout, secrets_of(df)) and not out.exists()


# ----------------------------------------------------------------------------------------------- probe
def test_probe_predictions_carry_only_what_the_audit_needs(cli, tmp_path, emb):
    e, meta, df = emb
    out = tmp_path / "preds.parquet"
    r = cli("probe", e, "--meta", meta, "--labels", "label", "--model", "linear", "--seeds", "1",
            "--epochs", "2", "--patient-col", "patient_id", "--out", out)
    assert r.exit_code == 0, r.stderr
    p = pd.read_parquet(out)
    assert set(p.columns) == {"id", "seed", "split", "label", "score_label", "patient_id", "sex", "age",
                              "camera"}
    leaked = found(every_file_text(tmp_path) + r.stdout + r.stderr, secrets_of(df) - set(df["patient_id"]))
    assert not leaked


@pytest.mark.parametrize("col", ["patient_name", "notes"])
def test_probe_refuses_an_identifier_group_col(cli, tmp_path, emb, col):
    e, meta, df = emb
    out = tmp_path / "preds.parquet"
    r = cli("probe", e, "--meta", meta, "--labels", "label", "--model", "linear", "--seeds", "1",
            "--epochs", "1", "--mitigation", "reweight", "--group-col", col, "--out", out)
    line = one_error_line(r, "--group-col", col)
    assert not found(line + r.stdout, secrets_of(df)) and not out.exists()


# ------------------------------------------------------------------------------------------- vocabulary
def test_one_role_vocabulary_for_every_command():
    from curate.pipeline import composition
    from curate.pipeline import publish_metadata as metadata
    from curate.policy import roles

    assert composition.parse_column_specs is roles.parse_column_specs is metadata.parse_column_specs
    assert composition.infer_roles is roles.infer_roles
    assert metadata.ROLES == composition.ROLES == roles.ROLES
    for name in ("pid", "case_id", "person_id"):
        assert name in roles.NAMES["patient"]
    df = pd.DataFrame({"image_id": ["a", "b"], "case_id": ["c1", "c2"], "label": ["0", "1"]})
    assert metadata.resolve_roles(df, {}).patient == "case_id"
