"""docs/tutorial.md runs: every command in its ```bash blocks, in order, in a fresh folder.

The ``curate ...`` lines go through the real entry point in-process (the ``cli`` fixture); the ```python
blocks are executed after the commands before them. ``pip install`` lines are skipped: the test runs
inside the environment they would build (installing would need the network and minutes), and a
different install would not exercise anything curate's own code does.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the tutorial, in document order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(TUTORIAL.read_text(encoding="utf-8"))]


def steps() -> list[tuple[str, object]]:
    """("curate", argv) for each bash command line and ("python", code) for each python block, in order."""
    out: list[tuple[str, object]] = []
    for lang, code in blocks():
        if lang == "python":
            out.append(("python", code))
        elif lang == "bash":
            for line in code.splitlines():
                argv = shlex.split(line, comments=True)
                if not argv or argv[0] == "pip":
                    continue  # see the module docstring
                assert argv[0] == "curate", f"tutorial command the test cannot run: {line!r}"
                out.append(("curate", argv[1:]))
    return out


def test_tutorial_has_the_whole_flow():
    verbs = [argv[0] for kind, argv in steps() if kind == "curate"]
    order = ["catalog", "demo", "build-card", "embed", "dedup", "cluster", "inspect", "sample", "build-card",
             "probe", "audit", "map", "report", "publish"]
    it = iter(verbs)
    assert all(v in it for v in order), verbs  # each step present, in this order
    assert any(lang == "bash" and line.startswith("pip install")
               for lang, code in blocks() for line in code.splitlines())


def test_tutorial_commands_run(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / ".hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for kind, step in steps():
        if kind == "python":
            exec(compile(step, "docs/tutorial.md", "exec"), {})  # noqa: S102 - our own documentation
            continue
        r = cli(*step)
        assert r.exit_code == 0, f"curate {' '.join(step)}\n{r.stdout}\n{r.stderr}"

    expected = ["demo/truth.json", "demo/pixels.parquet", "dedup/keep.txt", "dedup/pairs.parquet",
                "dedup/leakage.json", "clusters-pixels.parquet", "clusters.parquet", "evaluation.json",
                "sample.csv", "card/datasheet.md", "card/README.md", "card/croissant.json", "preds.parquet",
                "audit/model_card.md", "audit/model_card.html", "map.png", "map-counts.csv", "report.html",
                "hub/README.md", "hub/croissant.json", "hub/datasheet.md"]
    missing = [p for p in expected if not (tmp_path / p).is_file()]
    assert not missing, missing
    # the demo is large enough (150 test patients) that the model card withholds nothing: every group of
    # the test split has at least 11 patients, positives and negatives, so every disparity is published
    # with its interval and its permutation p-value, and the gap charts are drawn
    results = json.loads((tmp_path / "audit" / "results.json").read_text())["results"]
    assert not any(r.get("suppressed") for r in results)
    disparities = [r for r in results if r["metric"] in ("DPD", "DEOdds", "TPR_diff", "Gap")
                   and r["attribute"] != "overall" and r["label"] != "all labels"]
    assert len(disparities) == 8 and all(0 <= r["p_value"] <= 1 for r in disparities)
    assert len(list((tmp_path / "audit").glob("charts/*.png"))) == 2
    card = (tmp_path / "audit" / "model_card.md").read_text()
    assert "withheld" not in card.split("## Model details")[1]
    assert {p.name.split("-")[0] for p in (tmp_path / "hub" / "data").glob("*.parquet")} == {
        "train", "validation", "test"}

    # dedup finds exactly the planted duplicate pairs, and the leakage the demo planted
    truth = json.loads((tmp_path / "demo" / "truth.json").read_text())
    planted = {tuple(p) for p in truth["exact_duplicate_pairs"] + truth["near_duplicate_pairs"]}
    pairs = pd.read_parquet(tmp_path / "dedup" / "pairs.parquet")
    assert {tuple(sorted(p)) for p in pairs[["id_a", "id_b"]].to_numpy().tolist()} == planted
    leak = json.loads((tmp_path / "dedup" / "leakage.json").read_text())
    assert leak["cross_split_pairs"] == truth["cross_split_duplicate_pairs"]
    assert leak["patients"]["in_multiple_splits"] == truth["patients_in_several_splits"]
    keep = (tmp_path / "dedup" / "keep.txt").read_text().split()
    assert len(keep) == truth["n_images"] - len(planted)

    # the datasheet's Curation section reports the same numbers, and the hub card the dedup removal
    sheet = (tmp_path / "card" / "datasheet.md").read_text()
    assert "## Curation" in sheet
    assert f"| duplicate pairs | {len(planted)} |" in sheet
    assert f"| patients with images in more than one split | {truth['patients_in_several_splits']} (" in sheet
    hub = (tmp_path / "hub" / "README.md").read_text()
    assert f"{len(planted)} of {truth['n_images']:,} images were removed as duplicates" in hub
    card = (tmp_path / "audit" / "model_card.md").read_text()
    assert "](../card/datasheet.md)" in card and "- Test split by camera:" in card

    # synthetic data says so in every output built from it: title and first paragraph, never the real size
    assert_synthetic_outputs(tmp_path)

    # overlap finds every identical and re-encoded copy planted in demo/other/, and drops exactly those
    copies = [c for c in truth["other"]["copies"] if c["tier"] in ("bytes", "pixels")]
    m = pd.read_csv(tmp_path / "overlap" / "matrix_images.csv").set_index(["tier", "dataset"])
    assert m.at[("copies", "BRSET"), "B"] == len(copies)
    drop = pd.read_csv(tmp_path / "overlap" / "drop_from_eval.csv")
    assert set(drop["id"]) == {c["other"] for c in copies}

    # the DICOM step: one row per image, keyed ids, and none of the demo's fake identifiers in any output
    scan = pd.read_parquet(tmp_path / "scan" / "metadata.parquet")
    assert len(scan) == 122 and scan["patient_key"].dropna().str.startswith("patient_").all()
    written = [pd.read_parquet(tmp_path / "scan" / "metadata.parquet").to_csv()]
    written += [p.read_text() for d in ("scan", "card-dicom") for p in (tmp_path / d).glob("*.*")
                if p.suffix in (".json", ".md", ".csv", ".html")]
    assert not any(v in t for t in written for v in ("SYNTHETIC^PATIENT", "SYN-0", "HOSPITAL", "CLINIC"))
    # the card of the scanned synthetic files says synthetic, with the measured size, no real licence
    title, first = _title_and_first_paragraph(tmp_path / "card-dicom" / "README.md")
    assert "synthetic" in title.lower() and "synthetic" in first.lower()
    readme = (tmp_path / "card-dicom" / "README.md").read_text()
    assert "1M<n<10M" not in readme and "- n<1K" in readme and "license: cc-by-4.0" not in readme
    # the hub shards of the published demo keep the synthetic marker
    from curate.synthetic import is_synthetic

    assert all(is_synthetic(p) for p in (tmp_path / "hub" / "data").glob("*.parquet"))


@pytest.mark.parametrize("name", ["img/tutorial-gap-camera.png", "img/map-table1.png"])
def test_tutorial_pictures_exist(name):
    assert f"]({name})" in TUTORIAL.read_text()
    assert (TUTORIAL.parent / name).stat().st_size > 1000


def _title_and_first_paragraph(path: Path) -> tuple[str, str]:
    """An output's title and first paragraph (Markdown after any YAML front matter; HTML <title>/<p>)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
        first = re.search(r"<body>.*?<p[^>]*>(.*?)</p>", text, re.S).group(1)
        return title, first
    if text.startswith("---\n"):
        text = text.split("\n---\n", 1)[1]
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    return paras[0], paras[1]


def assert_synthetic_outputs(root: Path) -> None:
    from curate.synthetic import is_synthetic

    assert is_synthetic(root / "demo" / "labels.csv") and is_synthetic(root / "demo" / "embeddings.parquet")
    assert is_synthetic(root / "preds.parquet")  # probe copies the marker
    cards = ["card/datasheet.md", "card/datasheet.html", "card/README.md", "audit/model_card.md",
             "audit/model_card.html", "hub/README.md", "hub/datasheet.md"]
    for name in cards:
        title, first = _title_and_first_paragraph(root / name)
        assert "synthetic" in title.lower(), (name, title)
        assert "synthetic" in first.lower(), (name, first)
    for name in cards + ["card/croissant.json", "hub/croissant.json"]:
        text = (root / name).read_text(encoding="utf-8")
        assert "10K<n<100K" not in text, name
        # the real dataset's size (BRSET: 16,266 images) appears only in a block saying it is the real one's
        for block in re.split(r"\n\s*\n|</p>|</li>|</table>|\",\n", text):
            if "16,266" in block or "16266" in block:
                assert "real dataset" in block, (name, block)
    for name in ("card/croissant.json", "hub/croissant.json"):
        doc = json.loads((root / name).read_text())
        assert "synthetic" in doc["name"].lower() and doc["description"].lower().startswith("synthetic"), name
    for name in ("card/README.md", "hub/README.md"):
        assert "- 1K<n<10K" in (root / name).read_text()  # size from the 3,016 / 3,000 measured rows
    for name in ("dedup/summary.json", "evaluation.json", "evaluation-pixels.json", "inspect/summary.json"):
        assert json.loads((root / name).read_text())["synthetic"] is True, name
