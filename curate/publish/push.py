"""Upload a folder built by :func:`curate.publish.folder.publish` to a Hugging Face dataset repository.

The folder's publish manifest check (:mod:`curate.publish.manifest`), the licence guard
(:mod:`curate.pipeline.guard`) and the token check run before any network call. Data
shards go up in commits of at most ``batch_bytes`` each (a progress bar advances per commit, and an
interrupted upload keeps the shards already committed); the card files (``README.md``, ``croissant.json``,
``datasheet.*``) go last, so the hub's viewer never sees ``configs`` that point at files not yet there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate._io import MARKER
from curate.errors import InputError, UsageError
from curate.pipeline.guard import GuardDecision, check_upload
from curate.publish.manifest import check_folder_matches

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.schema import Dataset

#: Files of a card-only repository (the documentation, never data).
CARD_FILES = ("README.md", "croissant.json", "datasheet.md", "datasheet.html")
DEFAULT_BATCH_BYTES = 1 << 30


@dataclass
class PushResult:
    """What went to the hub: the repository, the files (paths in the repo) and one entry per commit."""

    repo_id: str
    url: str
    files: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    decision: GuardDecision | None = None


def _files_to_upload(folder: Path, card_only: bool) -> tuple[list[Path], list[Path]]:
    """(data files, card files) relative to ``folder``; the curate marker and hidden files stay local."""
    data, card = [], []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or rel.name == MARKER or any(part.startswith(".") for part in rel.parts):
            continue
        if rel.as_posix() in CARD_FILES:
            card.append(rel)
        elif not card_only:
            data.append(rel)
    return data, card


def _card_only_readme(path: Path) -> bytes:
    """The README without ``configs`` / ``dataset_info``, which would point at files not uploaded."""
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(path)
    for key in ("configs", "dataset_info"):
        if key in card.data:
            card.data.pop(key)
    return str(card).encode("utf-8")


def _batches(files: list[Path], folder: Path, limit: int) -> list[list[Path]]:
    out: list[list[Path]] = []
    size = 0
    for f in files:
        n = (folder / f).stat().st_size
        if out and size + n <= limit:
            out[-1].append(f)
            size += n
        else:
            out.append([f])
            size = n
    return out


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    dataset: Dataset | str,
    card_only: bool = False,
    private: bool = False,
    i_have_rights: bool = False,
    api: Any | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: bool = False,
    catalog_dir: str | os.PathLike | None = None,
) -> PushResult:
    """Create (if needed) the dataset repository ``repo_id`` and upload ``folder`` to it.

    ``api`` is a :class:`huggingface_hub.HfApi` (default: a new one using ``token``, else the token from
    ``HF_TOKEN`` / ``hf auth login``). With ``card_only`` only the documentation files are uploaded.
    Raises :class:`~curate.errors.LicenceError` before any network call when the guard refuses.
    """
    folder = Path(folder)
    if isinstance(dataset, str):
        from curate.catalog import load

        dataset = load(catalog_dir).get(dataset)
    if not repo_id or repo_id.count("/") > 1 or repo_id.strip() != repo_id or " " in repo_id:
        raise UsageError(f"--push expects a repository id such as 'user/name' (got '{repo_id}')")
    if not folder.is_dir():
        raise InputError(f"folder to upload '{folder}' not found")
    data, card = _files_to_upload(folder, card_only)
    if Path("README.md") not in card:
        raise InputError(f"'{folder}' has no README.md (build it with curate publish first)")
    check_folder_matches(folder, dataset)  # built for this dataset, under these terms, nothing added
    decision = check_upload(dataset, with_images=bool(data), i_have_rights=i_have_rights)

    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    if api is None:
        token = token or get_token()
        if not token:
            raise UsageError("no Hugging Face token: run `hf auth login` or set HF_TOKEN")
        api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)

    readme_bytes = _card_only_readme(folder / "README.md") if card_only else None
    batches = _batches(data, folder, batch_bytes)
    total = len(batches) + 1
    result = PushResult(repo_id=repo_id, url=str(url), decision=decision)
    message = commit_message or f"curate publish {dataset.id}"

    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(TextColumn("uploading"), BarColumn(), MofNCompleteColumn(), TextColumn("commits"),
                       console=Console(stderr=True), transient=False)
        bar.start()
        task = bar.add_task("upload", total=total)
    try:
        for i, batch in enumerate(batches, 1):
            ops = [CommitOperationAdd(path_in_repo=f.as_posix(), path_or_fileobj=str(folder / f))
                   for f in batch]
            info = api.create_commit(repo_id, ops, commit_message=f"{message}: data ({i}/{len(batches)})",
                                     repo_type="dataset")
            result.commits.append(str(getattr(info, "oid", info)))
            result.files += [f.as_posix() for f in batch]
            if bar is not None:
                bar.advance(task)
        ops = []
        for f in card:
            is_readme = readme_bytes is not None and f.as_posix() == "README.md"
            src: Any = readme_bytes if is_readme else str(folder / f)
            ops.append(CommitOperationAdd(path_in_repo=f.as_posix(), path_or_fileobj=src))
        info = api.create_commit(repo_id, ops, commit_message=f"{message}: dataset card", repo_type="dataset")
        result.commits.append(str(getattr(info, "oid", info)))
        result.files += [f.as_posix() for f in card]
        if bar is not None:
            bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    return result
