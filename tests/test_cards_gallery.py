"""The committed gallery in ``cards/`` must equal a fresh ``curate build-card --all`` of the catalog.

The gallery stores its build time in ``cards/.source_date_epoch``; rebuilding with that time must give the
same bytes, file by file. When the catalog or a template changes, regenerate and commit the gallery.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.cards.build import EPOCH_FILE, build_all

GALLERY = Path(__file__).resolve().parent.parent / "cards"
REGENERATE = "curate build-card --all   # then commit cards/"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_gallery_is_up_to_date(tmp_path, monkeypatch):
    stamp = GALLERY / EPOCH_FILE
    if not stamp.is_file():
        pytest.fail(f"{stamp} is missing; generate the gallery with: {REGENERATE}")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", stamp.read_text().strip())
    fresh_root = tmp_path / "cards"
    build_all(fresh_root)
    committed, fresh = _files(GALLERY), _files(fresh_root)
    missing = sorted(set(fresh) - set(committed))
    stale = sorted(set(committed) - set(fresh))
    changed = sorted(k for k in set(fresh) & set(committed) if fresh[k] != committed[k])
    problems = ([f"missing: {k}" for k in missing] + [f"not in catalog any more: {k}" for k in stale]
                + [f"out of date: {k}" for k in changed])
    assert not problems, (
        f"cards/ is out of date with the catalog/templates ({len(problems)} files):\n  "
        + "\n  ".join(problems[:15]) + ("\n  ..." if len(problems) > 15 else "")
        + f"\nregenerate with: {REGENERATE}"
    )


def test_gallery_index_lists_every_dataset():
    from curate.catalog import load

    index = (GALLERY / "index.md").read_text()
    for ds in load():
        assert f"]({ds.id}/datasheet.md)" in index, ds.id


def test_readme_command_reproduces_the_committed_card(tmp_path, monkeypatch):
    """README's main command (`curate build-card BRSET`, default --out) must not dirty the gallery."""
    import shutil

    from conftest import REPO

    from curate.cards.build import build_card

    shutil.copytree(REPO / "cards", tmp_path / "cards")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.chdir(tmp_path)
    build_card("BRSET")
    committed = REPO / "cards" / "BRSET"
    for f in committed.iterdir():
        assert (tmp_path / "cards" / "BRSET" / f.name).read_bytes() == f.read_bytes(), f.name
