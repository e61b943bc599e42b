"""The Curation section of build-card: numbers equal the demo's planted truth and a direct engine call."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def demo(demo_brset):
    """The session's shared demo (60 patients, seed 3; conftest.py), read only."""
    return demo_brset


@pytest.fixture(scope="module")
def built(demo, tmp_path_factory):
    from curate.cards.build import build_card
    from curate.pipeline.curation import CurationOptions

    out = tmp_path_factory.mktemp("card") / "card"
    return build_card("BRSET", metadata=demo.labels, embeddings=demo.embeddings, out=out,
                      curation=CurationOptions(attrs="sex,camera", k=6, device="cpu"))


def _section(text: str) -> str:
    m = re.search(r"^## Curation\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert m, "no Curation section"
    return m.group(1)


def _row(section: str, label: str) -> list[str]:
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith(label):
            return cells
    raise AssertionError(f"no table row '{label}'")


def _count(cell: str) -> int | str:
    first = cell.split(" (")[0].split(" of ")[0].replace(",", "")
    return first if first.startswith("<") else int(first)


def test_duplicates_and_leakage_equal_planted_truth(demo, built):
    truth = demo.truth
    sec = _section(built.paths["datasheet_md"].read_text())
    planted = {tuple(p) for p in truth["exact_duplicate_pairs"] + truth["near_duplicate_pairs"]}
    found = {tuple(sorted(p)) for p in built.curation.dedup.pairs[["id_a", "id_b"]].to_numpy().tolist()}
    assert found == planted  # every planted pair, nothing else
    assert _count(_row(sec, "duplicate pairs")[1]) == len(planted)
    assert _count(_row(sec, "— identical embeddings")[1]) == len(truth["exact_duplicate_pairs"])
    assert _count(_row(sec, "— near duplicates")[1]) == len(truth["near_duplicate_pairs"])
    assert _count(_row(sec, "images removed")[1]) == len(planted)  # each planted copy is its own group
    assert _count(_row(sec, "duplicate pairs whose two images")[1]) == truth["cross_split_duplicate_pairs"]
    n_multi = truth["patients_in_several_splits"]
    shown = _count(_row(sec, "patients with images in more than one split")[1])
    assert shown == (n_multi if n_multi >= 11 else "<11")
    # the hub card carries the same section
    assert _section(built.paths["hub_card"].read_text()) == sec


def test_section_equals_direct_engine_calls(demo, built):
    from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

    from curate.engine.cluster import cluster
    from curate.engine.dedup import dedup
    from curate.engine.embeddings import load_embeddings
    from curate.engine.leakage import leakage

    meta = pd.read_csv(demo.labels)
    e = load_embeddings(demo.embeddings)
    dd = dedup(e, 0.95, "exact", "cpu")
    assert dd.summary["pairs"] == built.curation.dedup.summary["pairs"]
    assert sorted(dd.keep) == sorted(built.curation.dedup.keep)
    lk = leakage(dd.pairs, meta, e.ids, meta_id_col="image_id", split_col="split", patient_col="patient_id")
    assert lk.summary == built.curation.leakage.summary
    # brute force: duplicate pairs whose splits differ, from the metadata alone
    split = dict(zip(meta["image_id"], meta["split"]))
    cross = sum(split[a] != split[b] for a, b in dd.pairs[["id_a", "id_b"]].to_numpy())
    assert lk.summary["cross_split_pairs"] == cross
    sec = _section(built.paths["datasheet_md"].read_text())
    cl = cluster(e, k=6, seed=0, device="cpu")
    joined = cl.table.merge(meta, left_on="id", right_on="image_id")
    for col in ("patient_sex", "camera"):  # --attr sex (a role) resolves to patient_sex
        ami = adjusted_mutual_info_score(joined[col], joined["cluster_l1"])
        nmi = normalized_mutual_info_score(joined[col], joined["cluster_l1"])
        cells = _row(sec, f"`{col}`")
        assert cells[3] == f"{ami:.2f}" and cells[4] == f"{nmi:.2f}"
        verdict = built.curation.evaluation["attributes"][col]["verdict"]
        assert verdict[0].upper() + verdict[1:] in sec
    assert "camera strongly" in sec  # the demo plants a strong camera effect


def test_provenance_commands_and_no_identifiers(demo, built):
    md = built.paths["datasheet_md"].read_text()
    digest = hashlib.sha256(Path(demo.embeddings).read_bytes()).hexdigest()
    inputs = {i["role"]: i for i in built.provenance.inputs}
    assert inputs["embeddings"]["sha256"] == digest
    assert digest in md
    croissant = built.paths["croissant"].read_text()
    assert digest in croissant
    assert built.provenance.parameters["curation"]["threshold"] == 0.95
    sec = _section(md)
    assert "curate dedup" in sec and "curate cluster" in sec and "--k 6" in sec
    meta = pd.read_csv(demo.labels)
    for path in built.paths.values():
        text = path.read_text()
        for value in list(meta["image_id"]) + list(meta["patient_id"]):
            assert value not in text, f"identifier in {path.name}"


def test_sample_file_per_split_counts(demo, tmp_path):
    from curate.cards.build import build_card
    from curate.engine.sample import sample
    from curate.pipeline.curation import CurationOptions

    s = sample(pd.read_csv(demo.labels), balance_by="camera", patient_col="patient_id", splits="0.8,0.1,0.1",
               id_col="image_id", seed=1)
    path = tmp_path / "sample.csv"
    s.to_csv(path, index=False)
    b = build_card("BRSET", metadata=demo.labels, embeddings=demo.embeddings, out=tmp_path / "card",
                   curation=CurationOptions(sample=path, k=4, device="cpu"))
    sec = _section(b.paths["datasheet_md"].read_text())
    assert "### Balanced sample and splits" in sec
    for name in ("train", "validation", "test"):
        cells = _row(sec, name)
        n_pat = s.loc[s["split"] == name, "patient_id"].nunique()
        if n_pat < 11:
            assert cells[2] == "<11"
        else:  # shown, or hidden as the complement of a small split ("*", never a false "<11")
            assert cells[2] in (str(n_pat), "*")
        if cells[2] in ("<11", "*"):  # a split's images are hidden with its patients (they would count them)
            assert cells[1] == cells[2]
        else:
            assert int(cells[1].replace(",", "")) == int((s["split"] == name).sum())
    # duplicates left in the sample: both ids of an engine pair drawn (no keep-list was applied)
    ids = set(s["image_id"])
    pairs = b.curation.dedup.pairs
    both = int((pairs["id_a"].isin(ids) & pairs["id_b"].isin(ids)).sum())
    assert f"Duplicate pairs with both images in the sample: {both}" in sec
    assert {i["role"] for i in b.provenance.inputs} >= {"embeddings", "sample", "metadata"}


def test_small_patient_counts_are_suppressed(tmp_path):
    from curate.cards.build import build_card
    from curate.demo import make_demo
    from curate.pipeline.curation import CurationOptions

    d = make_demo(tmp_path / "d", n_patients=20, n_leaky_patients=1, seed=5)
    assert 0 < d.truth["patients_in_several_splits"] < 11
    b = build_card("BRSET", metadata=d.labels, embeddings=d.embeddings, out=tmp_path / "card",
                   curation=CurationOptions(k=3, device="cpu"))
    sec = _section(b.paths["datasheet_md"].read_text())
    cell = _row(sec, "patients with images in more than one split")[1]
    assert cell.startswith("<11")
    # every patient count in the cell (total and per split pair) is hidden or zero
    assert set(re.findall(r"(?<![<\w])\d+", cell.replace("<11", ""))) <= {"0"}


def test_cli_build_card_with_embeddings(cli, demo, tmp_path):
    out = tmp_path / "card"
    r = cli("build-card", "BRSET", "--meta", demo.labels, "--embeddings", demo.embeddings,
            "--attr", "camera", "--k", "4", "--levels", "2", "--out", out)
    assert r.exit_code == 0, r.stderr + r.stdout
    assert f"{len(demo.truth['exact_duplicate_pairs']) + 10} duplicate pairs" in r.stdout.replace("\n", " ")
    sec = _section((out / "README.md").read_text())
    assert "hierarchical k-means" in sec and "--levels 2" in sec
    # the echoed build-card command reproduces both levels' k (not just the first)
    echoed = re.search(r"curate build-card BRSET [^`]*--k (\S+) --levels 2", sec)
    assert echoed and "," in echoed.group(1) and echoed.group(1).startswith("4,")
    data = json.loads((out / "croissant.json").read_text())
    assert "embeddings" in json.dumps(data)


@pytest.mark.parametrize("case", ["no-metadata", "flags-without-embeddings", "ids-not-covered", "bad-attr",
                                  "bad-threshold", "missing-embeddings"])
def test_cli_errors_before_writing(cli, demo, tmp_path, case):
    out = tmp_path / "card"
    args = ["build-card", "BRSET", "--out", out]
    if case == "no-metadata":
        args += ["--embeddings", demo.embeddings]
        expect = "--meta"
    elif case == "flags-without-embeddings":
        args += ["--meta", demo.labels, "--attr", "camera", "--threshold", "0.9"]
        expect = "--embeddings"
    elif case == "ids-not-covered":
        meta = pd.read_csv(demo.labels).iloc[5:]
        meta.to_csv(tmp_path / "part.csv", index=False)
        args += ["--meta", tmp_path / "part.csv", "--embeddings", demo.embeddings]
        expect = "5 of"
    elif case == "bad-attr":
        args += ["--meta", demo.labels, "--embeddings", demo.embeddings, "--attr", "shoe_size"]
        expect = "shoe_size"
    elif case == "bad-threshold":
        args += ["--meta", demo.labels, "--embeddings", demo.embeddings, "--threshold", "1.5"]
        expect = "threshold"
    else:
        args += ["--meta", demo.labels, "--embeddings", tmp_path / "nope.parquet"]
        expect = "nope.parquet"
    r = cli(*args)
    assert r.exit_code != 0
    err = r.stderr + r.stdout
    assert "error:" in err and expect in err and "Traceback" not in err
    assert not out.exists()


def test_without_embeddings_nothing_changes(demo, tmp_path):
    from curate.cards.build import build_card

    a = build_card("BRSET", metadata=demo.labels, out=tmp_path / "a")
    assert a.curation is None
    assert "## Curation" not in a.paths["datasheet_md"].read_text()
    assert "curation" not in a.provenance.parameters
    assert np.all([i["role"] != "embeddings" for i in a.provenance.inputs])


def test_publish_demo_applies_keep_list_and_new_patient_splits(demo, tmp_path):
    """publish --keep --resplit on the demo: duplicates removed, splits redrawn by patient, card says so."""
    from curate.engine.dedup import dedup
    from curate.engine.embeddings import load_embeddings
    from curate.publish.folder import publish

    dd = dedup(load_embeddings(demo.embeddings), 0.95, "exact", "cpu")
    keep = tmp_path / "keep.txt"
    keep.write_text("".join(f"{i}\n" for i in dd.keep))
    res = publish("BRSET", metadata=demo.labels, images=demo.images, out=tmp_path / "hub", keep=keep,
                  resplit=True, stratify="camera", image_col="image_id", patient_col="patient_id")
    n_dups = len(demo.truth["exact_duplicate_pairs"]) + len(demo.truth["near_duplicate_pairs"])
    assert res.removed_by_keep == n_dups
    assert sum(res.splits.values()) == demo.truth["n_images"] - n_dups
    # independent check on the written shards: no pseudonymous patient in two splits
    shards = {}
    for f in sorted((tmp_path / "hub" / "data").glob("*.parquet")):
        patients = pd.read_parquet(f, columns=["patient"])["patient"]
        shards.setdefault(f.name.split("-")[0], set()).update(patients)
    names = list(shards)
    assert set(names) == {"train", "validation", "test"}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not shards[a] & shards[b]
    assert res.patients_across_splits == 0
    card = (tmp_path / "hub" / "README.md").read_text()
    assert f"{n_dups:,} of {demo.truth['n_images']:,} images were removed as duplicates" in card
    assert "random by patient ('patient_id')" in card and "stratified by 'camera'" in card
    assert "split column 'split' was discarded" in card
    # the split table renders as one table (no blank line between its separator and its rows)
    assert f"| --- | ---: | ---: |\n| train | {res.splits['train']:,} |" in card


def test_publish_resplit_conflicts_with_split_col(demo, tmp_path):
    from curate.errors import UsageError
    from curate.publish.folder import publish

    with pytest.raises(UsageError, match="--resplit"):
        publish("BRSET", metadata=demo.labels, images=demo.images, out=tmp_path / "hub", resplit=True,
                split_col="split")
    assert not (tmp_path / "hub").exists()


def test_audit_links_datasheet_and_states_test_composition(cli, tmp_path):
    """audit --dataset --datasheet: relative link to the datasheet; test split per group, suppressed."""
    rng = np.random.default_rng(0)
    n = 120
    preds = pd.DataFrame({
        "patient": [f"p{i // 2}" for i in range(n)],
        "sex": np.where(np.arange(n) < 90, "F", "M"),  # 45 F patients, 15 M
        "camera": np.where(np.arange(n) % 15 == 0, "B", "A"),
        "dr": rng.integers(0, 2, n),
    })
    preds["score_dr"] = np.clip(0.6 * preds["dr"] + rng.uniform(0, 0.4, n), 0, 1)
    preds["split"] = "test"
    preds.to_parquet(tmp_path / "preds.parquet")
    sheet = tmp_path / "card" / "datasheet.md"
    sheet.parent.mkdir()
    sheet.write_text("# datasheet\n")
    out = tmp_path / "audits" / "a1"
    out.parent.mkdir()  # output parents must exist
    r = cli("audit", tmp_path / "preds.parquet", "--label-cols", "dr", "--groups", "sex,camera",
            "--patient-col", "patient", "--dataset", "BRSET", "--datasheet", sheet, "--out", out)
    assert r.exit_code == 0, r.stderr + r.stdout
    md = (out / "model_card.md").read_text()
    assert "[../../card/datasheet.md](../../card/datasheet.md)" in md
    line = next(x for x in md.splitlines() if x.startswith("- Test split by sex:"))
    f_img, m_img = int((preds["sex"] == "F").sum()), int((preds["sex"] == "M").sum())
    f_pat = preds.loc[preds["sex"] == "F", "patient"].nunique()
    m_pat = preds.loc[preds["sex"] == "M", "patient"].nunique()
    assert f"F {f_img} images ({f_img / n:.0%}), {f_pat} patients" in line
    assert f"M {m_img} images ({m_img / n:.0%}), {m_pat} patients" in line
    cam = next(x for x in md.splitlines() if x.startswith("- Test split by camera:"))
    n_b = int((preds["camera"] == "B").sum())
    assert n_b < 11 and "B <11 images" in cam and f"B {n_b} images" not in cam
    # complementary suppression: the other camera's count would reveal B's through the total; A holds
    # 112 images, so it is marked "*" (hidden to protect B), never a false "<11"
    assert n - n_b >= 11 and "A * images" in cam and "A <11" not in cam
    assert ('"<11": fewer than 11 individuals; "*": hidden so that a "<11" cell cannot be recovered from the '
            "totals") in md
    bad = cli("audit", tmp_path / "preds.parquet", "--label-cols", "dr", "--groups", "sex",
              "--datasheet", sheet, "--out", tmp_path / "a2")
    assert bad.exit_code != 0 and "--dataset" in bad.stderr + bad.stdout
    assert not (tmp_path / "a2").exists()


def test_renderer_prints_the_findings_view_only(demo, built):
    """The section is a template over ``Findings.view``: change a number there and only that changes;
    rendering needs no engine call (the engine ran once, in build_card)."""
    import copy

    from curate.cards.curation import curation_section

    f = copy.copy(built.curation)
    f.view = copy.deepcopy(built.curation.view)
    f.view["dedup"]["pairs"] = 123457
    f.view["dedup"]["identical"] = 98765
    text = curation_section(f).markdown
    assert _count(_row(text, "duplicate pairs")[1]) == 123457
    assert _count(_row(text, "— identical embeddings")[1]) == 98765
    assert curation_section(built.curation).markdown in built.paths["datasheet_md"].read_text()
