"""The start-up cache (curate._cache): only speed changes; an edited file is always re-read and re-checked."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from curate.catalog import builtin_dir


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def _record(tmp_path, licence: str):
    rec = yaml.safe_load((builtin_dir() / "BRSET.yaml").read_text())
    rec["licence"]["value"] = licence
    rec.pop("use_terms")
    (tmp_path / "cat").mkdir(exist_ok=True)
    (tmp_path / "cat" / "BRSET.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), encoding="utf-8")


SHOW = ("import curate; c = curate.catalog.load('{cat}'); d = c.get('BRSET'); "
        "print(d.licence.value, '|', d.access)")


def test_edited_record_is_reread_not_served_from_the_cache(tmp_path):
    import os

    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CURATE_NO_CACHE", None)
    _record(tmp_path, "CC-BY-4.0")
    first = _run(SHOW.format(cat=tmp_path / "cat"), env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "CC-BY-4.0 | open"
    cached = json.loads((tmp_path / "cache" / "yaml-v1.json").read_text())
    assert len(cached) >= 1  # the user's record (built-in ones come from the shipped snapshot)
    # the attack: same size and timestamp tricks do not matter, the key is the file's sha256
    _record(tmp_path, "CC-BY-NC-4.0")
    second = _run(SHOW.format(cat=tmp_path / "cat"), env)
    assert second.stdout.strip() == "CC-BY-NC-4.0 | open-noncommercial", second.stderr


def test_unsafe_yaml_is_refused_with_a_warm_cache(tmp_path):
    import os

    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    _record(tmp_path, "CC-BY-4.0")
    assert _run(SHOW.format(cat=tmp_path / "cat"), env).returncode == 0
    (tmp_path / "cat" / "BRSET.yaml").write_text("a: &x [1]\nb: *x\n", encoding="utf-8")
    r = _run(SHOW.format(cat=tmp_path / "cat"), env)
    assert r.returncode != 0 and "anchors and aliases" in r.stderr


def test_no_cache_writes_nothing(tmp_path):
    import os

    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache"), "CURATE_NO_CACHE": "1"}
    _record(tmp_path, "CC-BY-4.0")
    assert _run(SHOW.format(cat=tmp_path / "cat"), env).stdout.strip() == "CC-BY-4.0 | open"
    assert not (tmp_path / "cache").exists()


def test_shipped_snapshot_matches_every_builtin_file():
    """catalog/_parsed.json must hold exactly the current built-in files, parsed as the YAML loader parses
    them (regenerate with `python -m curate.catalog.snapshot`)."""
    import hashlib

    from curate._cache import _jsonable
    from curate.catalog import snapshot

    docs = snapshot.documents()
    files = snapshot.files(builtin_dir())
    keys = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in files}
    assert set(docs) == set(keys), "stale catalog/_parsed.json: run `python -m curate.catalog.snapshot`"
    for key, path in keys.items():
        want = _jsonable(yaml.safe_load(path.read_text(encoding="utf-8")))
        # the same document with its keys in the file's order (order is what the cards print)
        assert json.dumps(docs[key]) == json.dumps(want), path.name


def test_an_edited_builtin_file_misses_the_snapshot(tmp_path):
    from curate.catalog import snapshot
    from curate.catalog._yaml import load_user_yaml

    src = (builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "BRSET.yaml"
    edited.write_text(src.replace("16266", "16267", 1), encoding="utf-8")
    assert load_user_yaml(edited)["images"]["value"] == 16267  # parsed, not served from the snapshot
    assert len(snapshot.documents()) == len(snapshot.files(builtin_dir()))
