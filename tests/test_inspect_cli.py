"""``curate inspect``: outputs carry pseudonyms only, bad input gives one error line and no output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curate.engine.inspect.planted import planted_shortcut

pytest.importorskip("cleanlab")


@pytest.fixture
def inputs(tmp_path):
    X, m = planted_shortcut(strength=2.0, camera_label_link=0.5, patients=60, seed=2)
    m["id"] = [f"MRN{i:07d}" for i in range(len(m))]  # identifier-looking raw ids must never be written
    m["pid"] = [f"PAT-{p}" for p in m.pid]
    m["site"] = "only-site"
    m["y2"] = m.y
    m.loc[::5, "y2"] = 1 - m.y[::5]
    np.save(tmp_path / "emb.npy", X)
    (tmp_path / "emb.ids.txt").write_text("\n".join(m.id) + "\n")
    m.sample(frac=1, random_state=0).to_csv(tmp_path / "meta.csv", index=False)
    return tmp_path, m


def _args(tmp, *extra):
    return ["inspect", str(tmp / "emb.npy"), "--meta", str(tmp / "meta.csv"), "--patient-col", "pid",
            "--out", str(tmp / "out"), "--permutations", "19", *extra]


def test_outputs_and_no_identifiers(cli, inputs):
    tmp, m = inputs
    r = cli(*_args(tmp, "--label-col", "y", "--attributes", "camera,site", "--annotators", "y,y2"))
    assert r.exit_code == 0, r.stderr
    assert "shortcut  camera: shortcut" in r.stdout
    assert "attribute 'site' has a single value: skipped" in r.stdout
    files = {p.name: p.read_text() for p in (tmp / "out").iterdir() if p.is_file()}
    assert {"issues.csv", "shortcuts.csv", "summary.json"} <= set(files)
    everything = "".join(files.values()) + r.stdout + r.stderr
    for raw in [*m.id, *m.pid]:
        assert raw not in everything
    import pandas as pd

    issues = pd.read_csv(tmp / "out" / "issues.csv")
    assert len(issues) > 0 and issues.id.str.fullmatch(r"image_[0-9a-f]{16}").all()
    summ = json.loads(files["summary.json"])
    assert summ["shortcut"]["table"][0]["verdict"] == "shortcut"
    assert summ["label"]["summary"]["agreement"]["fleiss_kappa"] < 1
    for v in summ["label"]["flagged_by_given_label"].values():  # small cells hidden
        assert isinstance(v, dict) or v >= 11


@pytest.mark.parametrize("extra, message", [
    (("--attributes", "id"), "looks like an identifier"),
    (("--attributes", "pid"), "is the patient column"),
    (("--attributes", "nope"), "column 'nope' not found"),
    (("--label-col", "nope"), "column 'nope' not found"),
    (("--checks", "nope"), "unknown check 'nope'"),
    (("--label-col", "y", "--folds", "40"), "needs at least 80"),
])
def test_bad_input_one_line_no_output(cli, inputs, extra, message):
    tmp, _ = inputs
    r = cli(*_args(tmp, *extra))
    assert r.exit_code != 0
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and message in r.stderr
    assert "Traceback" not in r.stderr and not (tmp / "out").exists()


def test_nothing_to_inspect(cli, tmp_path):
    r = cli("inspect", "--out", str(tmp_path / "out"))
    assert r.exit_code != 0 and r.stderr.startswith("error: ") and "nothing to inspect" in r.stderr
    assert not (tmp_path / "out").exists()


def test_near_copies_and_outliers_from_the_command_line(cli, inputs):
    """Embeddings alone run the outlier and near-duplicate checks; a copy planted across two patients is a
    group; nothing but pseudonyms is written and the small counts are hidden."""
    tmp, m = inputs
    X = np.load(tmp / "emb.npy")
    X[7] = X[40] + 1e-4  # rows of two different patients
    np.save(tmp / "emb.npy", X)
    r = cli(*_args(tmp))
    assert r.exit_code == 0, r.stderr
    assert "near_duplicate  images in near-duplicate groups: <11" in r.stdout
    summ = json.loads((tmp / "out" / "summary.json").read_text())
    assert summ["near_duplicate"]["summary"]["pairs_across_patients"]["shown"] == "<11"
    import pandas as pd

    issues = (tmp / "out" / "issues.csv").read_text()
    nd = pd.read_csv(tmp / "out" / "issues.csv").query("issue == 'near_duplicate'")
    copy = nd[nd.score > 0.9999]
    assert len(copy) == 2 and copy.group.nunique() == 1 and (nd.group == copy.group.iloc[0]).sum() == 2
    for raw in [*m.id, *m.pid]:
        assert raw not in issues + r.stdout + r.stderr


def test_embeddings_that_do_not_join(cli, inputs):
    tmp, m = inputs
    (tmp / "emb.ids.txt").write_text("\n".join(f"x{i}" for i in range(len(m))) + "\n")
    r = cli(*_args(tmp, "--label-col", "y"))
    assert r.exit_code != 0 and "have no embedding" in r.stderr and not (tmp / "out").exists()


def test_python_api_matches(inputs):
    import curate

    tmp, _ = inputs
    rep = curate.inspect(tmp / "emb.npy", tmp / "meta.csv", label_col="y", attributes="camera",
                         patient_col="pid", permutations=19)
    assert set(rep.results) == {"shortcut", "label", "outlier", "near_duplicate"}
    assert rep.results["shortcut"].table.iloc[0].verdict == "shortcut"


def test_dicom_quality_from_the_command_line(cli, tmp_path):
    from curate.engine.inspect.planted import planted_radiographs

    planted = planted_radiographs(tmp_path / "dx", studies=20, per_corruption=5, seed=1)
    r = cli("inspect", "--dicom", str(tmp_path / "dx"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.stderr
    assert "quality   monochrome1: <11 image(s)" in r.stdout
    text = (tmp_path / "out" / "issues.csv").read_text() + (tmp_path / "out" / "summary.json").read_text()
    assert "s000" not in text + r.stdout and "im0.dcm" not in text + r.stdout
    assert str(tmp_path / "dx") not in text + r.stdout
    flagged_files = (planted.corruption != "").sum()
    assert text.count("image_") >= flagged_files
    r = cli("inspect", "--dicom", str(tmp_path / "nope"), "--out", str(tmp_path / "out2"))
    assert r.exit_code != 0 and "is not a folder" in r.stderr and not (tmp_path / "out2").exists()
    r = cli("inspect", "--label-col", "y", "--out", str(tmp_path / "out3"))
    assert r.exit_code != 0 and "needs EMB" in r.stderr


def _hidden_range(published: dict, total_rows: int, small: str) -> tuple[float, float]:
    """linprog bounds of one class's flagged count given what summary.json publishes: the rows, the flagged
    total (or its marker) and the per-class counts (or markers); hidden cells ≥ 0, ``<11`` cells 1..10, and
    the unflagged rest rows − flagged ≥ 0."""
    from scipy.optimize import linprog

    names = list(published["by"])
    hid = [n for n in names if isinstance(published["by"][n], str)]
    flag_hidden = isinstance(published["flagged"], str)
    nv = len(hid) + flag_hidden  # variables: hidden classes, then the flagged total when hidden
    a_eq, b_eq = np.zeros((1, nv)), [0.0]
    for i, _ in enumerate(hid):
        a_eq[0, i] = 1.0
    rest = -sum(v for v in published["by"].values() if not isinstance(v, str))
    if flag_hidden:
        a_eq[0, -1] = -1.0
        b_eq = [rest]
    else:
        b_eq = [rest + published["flagged"]]
    bounds = [(1, 10) if published["by"][n] == "<11" else (0, None) for n in hid]
    if flag_hidden:
        bounds.append((0, total_rows))
    c = np.zeros(nv)
    c[hid.index(small)] = 1.0
    lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, integrality=np.ones(nv))
    hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, integrality=np.ones(nv))
    return lo.fun, -hi.fun


@pytest.mark.parametrize("per_class", [{"a": 4, "b": 30}, {"a": 4, "b": 30, "c": 50}, {"a": 2, "b": 9}])
def test_summary_hides_small_flagged_classes_unrecoverably(tmp_path, per_class):
    """Flagged rows per given label with a class of 4 (and 2): summary.json and the console never show it,
    and linprog over the published rows, flagged total and other classes cannot pin it (width ≥ 3)."""
    import pandas as pd

    from curate.engine.inspect import IssueResult
    from curate.pipeline.inspect import InspectReport
    from curate.policy.pseudonyms import generate_key_file, load_key
    from curate.report.inspect import write_inspect

    labels = [c for c, n in per_class.items() for _ in range(n)]
    n_flag = len(labels)
    rows = 300
    iss = pd.DataFrame({"row": range(rows), "issue": "label", "score": np.linspace(1, 0, rows),
                        "flagged": [True] * n_flag + [False] * (rows - n_flag),
                        "given_label": labels + ["z"] * (rows - n_flag), "suggested_label": "z"})
    res = IssueResult("label", iss, summary={"flagged": n_flag, "rows": rows, "classes": 4})
    rep = InspectReport(results={"label": res}, ids={"label": np.array([f"MRN{i}" for i in range(rows)])})
    key = load_key(generate_key_file(tmp_path / "k.key"))
    summ = write_inspect(rep, tmp_path / "out", key=key)
    text = (tmp_path / "out" / "summary.json").read_text()
    back = json.loads(text)["label"]
    by = {k: (v["shown"] if isinstance(v, dict) else v) for k, v in back["flagged_by_given_label"].items()}
    flagged = back["summary"]["flagged"]
    flagged = flagged["shown"] if isinstance(flagged, dict) else flagged
    assert back["summary"]["rows"] == rows and summ["label"]["summary"]["rows"] == rows
    for c, n in per_class.items():
        if n < 11:
            assert by[c] == "<11"
            lo, hi = _hidden_range({"by": by, "flagged": flagged}, rows, c)
            assert hi - lo >= 3, (c, lo, hi, by, flagged)
    assert "MRN" not in text + (tmp_path / "out" / "issues.csv").read_text()


def test_image_folder_from_the_command_line(cli, tmp_path):
    pytest.importorskip("cleanvision")
    from curate.engine.inspect.planted import planted_images

    planted_images(tmp_path / "png", normal=12, seed=2)
    r = cli("inspect", "--images", str(tmp_path / "png"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.stderr
    assert "cleanvision  dark: <11 image(s)" in r.stdout
    assert "grayscale modality" in r.stdout
    text = (tmp_path / "out" / "issues.csv").read_text() + (tmp_path / "out" / "summary.json").read_text()
    assert "dark.png" not in text + r.stdout + r.stderr and str(tmp_path / "png") not in text + r.stdout
    assert text.count("image_") >= 4


def test_gallery_of_top_examples(cli, tmp_path):
    """An image folder gives gallery/: the top N of each issue type, labelled by the issues.csv
    pseudonyms, no file name or path, no script; --gallery-top 0 writes none."""
    pytest.importorskip("cleanvision")
    import pandas as pd

    from curate.engine.inspect.planted import planted_images

    planted_images(tmp_path / "png", normal=12, seed=2)
    r = cli("inspect", "--images", str(tmp_path / "png"), "--out", str(tmp_path / "out"),
            "--gallery-top", "1")
    assert r.exit_code == 0, r.stderr
    page = (tmp_path / "out" / "gallery" / "index.html").read_text()
    issues = pd.read_csv(tmp_path / "out" / "issues.csv")
    keys = [k.split('"')[0] for k in page.split('data-key="')[1:]]
    assert len(keys) == issues.issue.nunique()  # one per issue type
    for issue, g in issues.groupby("issue"):  # the top-scored image of each type
        assert f'{g.sort_values("score", ascending=False).id.iloc[0]}|{issue}' in keys
    assert {k.split("|")[0] for k in keys} <= set(issues.id)
    assert "<script" not in page and ".png" not in page.replace("thumbs/", "").split("<img")[0]
    assert "dark.png" not in page and str(tmp_path / "png") not in page
    assert len(list((tmp_path / "out" / "gallery" / "thumbs").glob("*.png"))) == len(keys)
    r = cli("inspect", "--images", str(tmp_path / "png"), "--out", str(tmp_path / "o2"), "--gallery-top", "0")
    assert r.exit_code == 0 and not (tmp_path / "o2" / "gallery").exists()


def test_no_gallery_without_image_files(cli, inputs):
    tmp, _ = inputs
    r = cli(*_args(tmp, "--label-col", "y"))
    assert r.exit_code == 0 and not (tmp / "out" / "gallery").exists() and "gallery:" not in r.stdout
