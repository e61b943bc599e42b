"""Licence guard and upload, offline: the operations curate hands to ``huggingface_hub`` are recorded by an
``HfApi`` subclass (huggingface_hub's own API; nothing of curate is mocked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub_fixtures import RecordingApi
from huggingface_hub import CommitOperationAdd
from test_publish import make_dataset, write_catalog

from curate.errors import LicenceError


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("raw"), n_images=16, n_patients=8)


def _publish(**kw):
    from curate.publish.folder import publish

    return publish(**kw)


def _ops(api: RecordingApi) -> list[CommitOperationAdd]:
    return [op for c in api.calls if c[0] == "create_commit" for op in c[2]]


def test_push_hands_every_file_to_huggingface_hub(tmp_path, raw, catalog):
    meta, images, _ = raw
    api = RecordingApi()
    out = tmp_path / "out"
    res = _publish(dataset_id="OPENSET", metadata=meta, images=images, out=out, splits="0.5,0.5",
                   catalog_dir=catalog, max_shard_size="1KB", push="someone/openset", private=True, api=api)
    assert api.calls[0] == ("create_repo", "someone/openset",
                            {"repo_type": "dataset", "private": True, "exist_ok": True})
    commits = [c for c in api.calls if c[0] == "create_commit"]
    assert all(c[1] == "someone/openset" and c[3]["repo_type"] == "dataset" for c in commits)
    local = ({p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
             - {".curate-output", ".curate-publish.json"})  # curate's own manifests stay local
    ops = _ops(api)
    assert sorted(op.path_in_repo for op in ops) == sorted(local)
    for op in ops:  # each operation uploads exactly the local file's bytes
        with op.as_file() as f:
            assert f.read() == (out / op.path_in_repo).read_bytes()
    # data first, the card last
    assert len(commits) == 2
    assert {op.path_in_repo for op in commits[-1][2]} == {"README.md", "croissant.json", "datasheet.md",
                                                          "datasheet.html"} & local
    assert all(op.path_in_repo.startswith("data/") for c in commits[:-1] for op in c[2])
    assert res.push is not None and res.push.repo_id == "someone/openset"
    assert len(res.push.commits) == len(commits)


def test_push_batches_data_commits_by_size(tmp_path, raw, catalog):
    from curate.publish.push import push_folder

    meta, images, _ = raw
    out = tmp_path / "out"
    _publish(dataset_id="OPENSET", metadata=meta, images=images, out=out, splits="0.5,0.5",
             catalog_dir=catalog, max_shard_size="1KB")
    api = RecordingApi()
    limit = 3000
    res = push_folder(out, "someone/openset", dataset="OPENSET", api=api, batch_bytes=limit,
                      catalog_dir=catalog, progress=True)
    data_commits = [c[2] for c in api.calls if c[0] == "create_commit"][:-1]
    sizes = [[(out / op.path_in_repo).stat().st_size for op in ops] for ops in data_commits]
    assert len(data_commits) > 1
    assert all(sum(s) <= limit or len(s) == 1 for s in sizes)
    # greedy packing: a commit was closed only because the next shard would not fit
    assert all(sum(a) + b[0] > limit for a, b in zip(sizes, sizes[1:]))
    shards = sorted(p.relative_to(out).as_posix() for p in (out / "data").glob("*.parquet"))
    assert sorted(op.path_in_repo for ops in data_commits for op in ops) == shards
    assert res.files[-1] in ("README.md", "croissant.json", "datasheet.md", "datasheet.html")


@pytest.mark.parametrize("ds_id, licence", [("BRSET", "PhysioNet Credentialed Health Data License"),
                                             ("DUASET", "Example Data Use Agreement")])
def test_guard_refuses_images_of_credentialed_and_restricted_before_any_call(tmp_path, raw, catalog, ds_id,
                                                                             licence):
    meta, images, _ = raw
    api = RecordingApi()
    out = tmp_path / "out"
    with pytest.raises(LicenceError) as err:
        _publish(dataset_id=ds_id, metadata=meta, images=images, out=out, catalog_dir=catalog,
                 push="someone/x", api=api)
    assert licence in str(err.value) and "--card-only" in str(err.value)
    assert api.calls == []
    assert not out.exists()  # refused before any work


def test_guard_cli_exit_code_and_message(cli, tmp_path, raw, catalog):
    meta, images, _ = raw
    out = tmp_path / "out"
    # the endpoint is closed: a network call would fail with a different message
    env = {"HF_TOKEN": "hf_test", "HF_ENDPOINT": "http://127.0.0.1:9"}
    r = cli("publish", "BRSET", "--meta", meta, "--images", images, "--out", out, "--catalog", catalog,
            "--push", "someone/brset", env=env)
    assert r.exit_code != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: refusing to upload the images of BRSET")
    assert "PhysioNet Credentialed Health Data License" in lines[0] and "credentialed" in lines[0]
    assert not out.exists()


def test_card_only_allowed_for_credentialed(tmp_path, raw, catalog):
    from huggingface_hub import DatasetCard

    meta, images, truth = raw
    api = RecordingApi()
    out = tmp_path / "brset-card"
    res = _publish(dataset_id="BRSET", metadata=meta, images=images, out=out, card_only=True,
                   catalog_dir=catalog, push="someone/brset", api=api)
    paths = sorted(op.path_in_repo for op in _ops(api))
    assert paths == sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert set(paths) == {"README.md", "croissant.json", "datasheet.md", "datasheet.html"}
    card = DatasetCard.load(out / "README.md")
    assert "configs" not in card.data.to_dict()
    assert "PhysioNet Credentialed Health Data License" in card.text and "credentialed" in card.text
    assert "card-only repository" in card.text
    assert res.push is not None and res.card_only and res.splits == {}
    # the metadata fed the card's aggregate counts only: no identifier value in any file
    blob = "".join((out / p).read_text(encoding="utf-8") for p in paths)
    assert not [s for s in set(truth["patient_id"]) | set(truth["image_id"]) if s in blob]


def test_card_only_push_of_a_full_folder_leaves_data_behind(tmp_path, raw, catalog):
    from curate.publish.push import push_folder

    meta, images, _ = raw
    out = tmp_path / "out"
    _publish(dataset_id="OPENSET", metadata=meta, images=images, out=out, splits="0.5,0.5",
             catalog_dir=catalog)
    api = RecordingApi()
    push_folder(out, "someone/openset-card", dataset="OPENSET", card_only=True, api=api, catalog_dir=catalog)
    ops = _ops(api)
    assert ops and not [op for op in ops if op.path_in_repo.startswith("data/")]
    readme = next(op for op in ops if op.path_in_repo == "README.md")
    with readme.as_file() as f:
        text = f.read().decode()
    assert "configs:" not in text and "dataset_info:" not in text  # no pointers to files not uploaded


def test_unknown_licence_needs_explicit_acknowledgement(tmp_path, raw, catalog):
    """Unknown licence text: card-only; with structured use_terms stated, images need --i-have-rights."""
    meta, images, _ = raw
    api = RecordingApi()
    with pytest.raises(LicenceError, match="Custom terms of the Example Hospital.*no complete structured"):
        _publish(dataset_id="MYSTERY", metadata=meta, images=images, out=tmp_path / "a", catalog_dir=catalog,
                 push="someone/m", api=api, i_have_rights=True)
    stated = tmp_path / "stated"
    stated.mkdir()
    text = (catalog / "MYSTERY.yaml").read_text(encoding="utf-8") + (
        "use_terms: {value: {redistribution: true, derivatives: true, commercial: true, agreement: none, "
        "competition: false}, source: gen}\n")
    (stated / "MYSTERY.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LicenceError, match="Custom terms of the Example Hospital.*--i-have-rights"):
        _publish(dataset_id="MYSTERY", metadata=meta, images=images, out=tmp_path / "a", catalog_dir=stated,
                 push="someone/m", api=api)
    assert api.calls == []
    res = _publish(dataset_id="MYSTERY", metadata=meta, images=images, out=tmp_path / "b", splits="0.5,0.5",
                   catalog_dir=stated, push="someone/m", api=api, i_have_rights=True)
    assert any(op.path_in_repo.startswith("data/") for op in _ops(api))
    assert res.push.decision.acknowledged
    assert "confirmed holding the rights" in (tmp_path / "b" / "README.md").read_text()


def test_building_locally_is_not_guarded(tmp_path, raw, catalog):
    """The guard is on upload: a credentialed dataset's folder can be built for the user's own use."""
    meta, images, _ = raw
    res = _publish(dataset_id="BRSET", metadata=meta, images=images, out=tmp_path / "o", splits="0.5,0.5",
                   catalog_dir=catalog)
    assert sum(res.splits.values()) == 16 and res.push is None


def test_no_token_is_a_clear_error_before_work(cli, tmp_path, raw, catalog, monkeypatch):
    meta, images, _ = raw
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))  # no stored login
    monkeypatch.delenv("HF_TOKEN", raising=False)
    out = tmp_path / "out"
    r = cli("publish", "OPENSET", "--meta", meta, "--images", images, "--out", out, "--catalog", catalog,
            "--push", "someone/openset")
    assert r.exit_code != 0 and "no Hugging Face token" in r.stderr
    assert not out.exists()
