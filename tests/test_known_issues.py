"""``build-card --inspect DIR``: the datasheet's Known issues section from a curate inspect run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curate.engine.inspect.planted import planted_label_flips

pytest.importorskip("cleanlab")


@pytest.fixture
def inspected(cli, tmp_path):
    X, m, _ = planted_label_flips(patients=60, seed=3)
    m["id"] = [f"MRN{i:07d}" for i in range(len(m))]
    m["pid"] = [f"PAT-{p}" for p in m.pid]
    X[5] = X[100] + 1e-4  # one near-copy across two patients
    np.save(tmp_path / "emb.npy", X)
    (tmp_path / "emb.ids.txt").write_text("\n".join(m.id) + "\n")
    m.to_csv(tmp_path / "meta.csv", index=False)
    r = cli("inspect", str(tmp_path / "emb.npy"), "--meta", str(tmp_path / "meta.csv"), "--label-col", "y",
            "--patient-col", "pid", "--out", str(tmp_path / "insp"))
    assert r.exit_code == 0, r.stderr
    return tmp_path, m


def test_known_issues_section_answers_the_errors_question(cli, inspected, monkeypatch):
    tmp, m = inspected
    monkeypatch.chdir(tmp)
    r = cli("build-card", "BRSET", "--inspect", "insp", "--out", "card")
    assert r.exit_code == 0, r.stderr
    assert "known issues: 3 issue type(s) from insp" in r.stdout
    md = (tmp / "card" / "datasheet.md").read_text()
    summ = json.loads((tmp / "insp" / "summary.json").read_text())
    assert "## Known issues" in md
    section = md.split("## Known issues", 1)[1].split("\n## ", 1)[0]

    def shown(v):
        return v["shown"] if isinstance(v, dict) else f"{v:,}"

    lab = summ["label"]["summary"]
    assert f"| label | suspected label errors | {shown(lab['flagged'])} | {shown(lab['rows'])} |" in section
    nd = summ["near_duplicate"]["summary"]
    assert f"| near_duplicate | images in near-duplicate groups | {shown(nd['flagged'])} |" in section
    assert nd["flagged"]["shown"] == "<11"  # the two copies: a small count stays hidden in the card
    q = md.split("**Are there any errors, sources of noise, or redundancies in the dataset?**", 1)[1]
    q = q.split("\n\n", 1)[0]
    assert "Yes, measured: suspected label errors" in q and "measured by curate inspect" in q
    # coverage counts the question answered, from the same objects
    from curate.cards.build import build_card

    build = build_card("BRSET", out=tmp / "card2", inspect=tmp / "insp")
    assert build.context.questions["errors"].answered
    plain = build_card("BRSET", out=tmp / "card3")

    def reported(b):
        return [a.text for a in b.context.questions["errors"].answers if a.reported]

    assert reported(build) == [*reported(plain), build.context.questions["errors"].answers[-1].text]
    assert reported(build)[-1].startswith("Yes, measured")
    prov = json.dumps(build.croissant)
    assert summ and "MRN" not in md + prov and "PAT-" not in md + prov
    for raw in m.id[:50]:
        assert raw not in md + r.stdout + r.stderr


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "is not a folder"),
    (lambda d: d.mkdir(), "has no summary.json"),
    (lambda d: (d.mkdir(), (d / "summary.json").write_text("{")), "not valid JSON"),
    (lambda d: (d.mkdir(), (d / "summary.json").write_text(
        json.dumps({"label": {"summary": {"rows": 400, "flagged": 3}, "notes": []}}))),
     "unprotected small count"),
    (lambda d: (d.mkdir(), (d / "summary.json").write_text("{}")), "holds no check's results"),
])
def test_bad_inspect_folder(cli, tmp_path, setup, message):
    setup(tmp_path / "insp")
    r = cli("build-card", "BRSET", "--inspect", str(tmp_path / "insp"), "--out", str(tmp_path / "card"))
    assert r.exit_code != 0 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert message in r.stderr and "Traceback" not in r.stderr and not (tmp_path / "card").exists()


def test_inspect_needs_out(cli, inspected):
    tmp, _ = inspected
    r = cli("build-card", "BRSET", "--inspect", str(tmp / "insp"))
    assert r.exit_code != 0 and "needs --out DIR" in r.stderr
