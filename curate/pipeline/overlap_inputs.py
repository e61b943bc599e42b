"""The inputs of ``curate overlap``: each an image folder, an embeddings table or a hub folder, read once.

- an **image folder** (PNG/JPEG/TIFF, DICOM, NIfTI; recursive): ids are the files' paths relative to it
  (matched to a metadata table with or without the extension, as ``curate dedup --images``);
- an **embeddings table** (``.npy`` / ``.parquet`` file, glob or folder of shards, a Hugging Face dataset
  folder): read by :func:`curate.engine.embeddings.load_embeddings`, as ``curate dedup`` reads it;
- a **hub folder** written by ``curate publish`` (``data/<split>-*.parquet`` with an ``image`` column): its
  image bytes are unpacked into a temporary folder outside the output, ids are the published file names
  (``image_000001.png``), patients the published ``patient`` pseudonyms when the folder has them.

Every check that needs no image decoded runs here, before the engine: an input inside another input, the
same label twice, unknown labels in per-input options, metadata that does not cover the ids.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import InputError, UsageError

#: Labels given to the inputs in order when no catalog id names them.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]{0,63}$")
_RESERVED = {"tier", "dataset", "level"}


@dataclass
class Source:
    """One input, read: the engine's fields plus where its files came from (never written out)."""

    name: str
    kind: str                          # "images" | "embeddings" | "hub"
    path: Path
    ids: list[str]
    files: list[Path] | None = None
    embeddings: Any = None
    patients: list[str] | None = None
    synthetic: bool = False
    catalog_id: str | None = None
    paths: dict[str, Path] = field(default_factory=dict)  # id -> file, for thumbnails


def parse_assignments(values: Sequence[str] | Mapping[str, Any] | None, option: str) -> dict[str, str]:
    """``["A=meta.csv", "B=x.csv"]`` (the CLI form) or a mapping → ``{"A": "meta.csv", ...}``."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return {str(k): str(v) for k, v in values.items()}
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = str(v).partition("=")
        if not sep or not key.strip() or not val.strip():
            raise UsageError(f"{option} takes INPUT=VALUE (e.g. {option} A=...), got '{v}'")
        if key.strip() in out:
            raise UsageError(f"{option} names input '{key.strip()}' twice")
        out[key.strip()] = val.strip()
    return out


def kind_of_input(path: Path) -> str:
    """images | embeddings | hub, from what ``path`` holds (an error names the input when it is none)."""
    s = os.fspath(path)
    if any(c in s for c in "*?[") and not path.exists():
        return "embeddings"
    if not path.exists():
        raise InputError(f"input '{path}' does not exist")
    if path.is_file():
        if path.suffix.lower() in (".npy", ".parquet"):
            return "embeddings"
        raise InputError(f"input '{path}' is a file but not an embeddings table (.npy / .parquet); give an "
                         "image folder, an embeddings table or a hub folder")
    if (path / "data").is_dir() and any((path / "data").glob("*.parquet")):
        return "hub"
    hf = any((path / f).exists() for f in ("state.json", "dataset_info.json", "dataset_dict.json"))
    if hf or any(q.suffix in (".npy", ".parquet") for q in path.iterdir()):
        return "embeddings"
    return "images"


def check_inputs(paths: list[Path], catalog_ids: Mapping[str, str]) -> list[str]:
    """The labels of the inputs (catalog id or letter), after the checks that need no file read."""
    if len(paths) < 2:
        raise UsageError("give at least two inputs (A B [C ...]): overlap is measured between datasets")
    if len(paths) > len(LETTERS):
        raise UsageError(f"at most {len(LETTERS)} inputs, got {len(paths)}")
    letters = list(LETTERS[:len(paths)])
    unknown = [k for k in catalog_ids if k not in letters]
    if unknown:
        raise UsageError(f"--id names input(s) {', '.join(unknown)}; the inputs are {', '.join(letters)} "
                         "in the order given")
    names = [catalog_ids.get(x, x) for x in letters]
    for n in names:
        if not _LABEL.match(n) or n.lower() in _RESERVED:
            raise UsageError(f"--id '{n}': a catalog id is a letter then letters, digits, '_', '.', '+', '-' "
                             f"(at most 64), not one of {', '.join(sorted(_RESERVED))}")
    seen: dict[str, str] = {}
    for x, n in zip(letters, names):
        if n in seen:
            raise UsageError(f"inputs {seen[n]} and {x} have the same catalog id '{n}' (--id); each input is "
                             "one dataset")
        seen[n] = x
    real = [os.path.realpath(p) for p in paths]
    for i, a in enumerate(real):
        for j, b in enumerate(real):
            if i == j:
                continue
            if a == b and i < j:
                raise UsageError(f"inputs {letters[i]} and {letters[j]} are the same path '{paths[i]}'")
            if a != b and os.path.commonpath([a, b]) == a and Path(a).is_dir():
                raise UsageError(f"input {letters[j]} '{paths[j]}' is inside input {letters[i]} "
                                 f"'{paths[i]}': "
                                 "a dataset and its own subfolder are not two datasets")
    return names


def resolve_key(value: str, letters: list[str], names: list[str], option: str) -> str:
    """The label an option names by letter (``A``) or by catalog id (``BRSET``)."""
    if value in names:
        return value
    if value in letters:
        return names[letters.index(value)]
    raise UsageError(f"{option} '{value}' names no input (inputs: "
                     f"{', '.join(f'{x}={n}' if x != n else x for x, n in zip(letters, names))})")


def read_source(name: str, path: Path, *, meta: str | None, meta_id_col: str | None, patient_col: str | None,
                emb_id_col: str, vector_col: str | None, scratch: Path, catalog_id: str | None) -> Source:
    """One input read into a :class:`Source` (hub images unpacked under ``scratch``)."""
    kind = kind_of_input(path)
    if kind == "images":
        from curate.engine.dedup.images import list_images

        files = list_images(path)
        ids = [p.relative_to(path).as_posix() for p in files]
        src = Source(name, kind, path, ids, files=files, paths=dict(zip(ids, files)))
    elif kind == "embeddings":
        from curate.engine.embeddings import load_embeddings

        e = load_embeddings(str(path), id_col=emb_id_col, vector_col=vector_col)
        src = Source(name, kind, path, [str(i) for i in e.ids], embeddings=e.vectors)
    else:
        src = _read_hub(name, path, scratch)
    src.catalog_id = catalog_id
    from curate.synthetic import is_synthetic

    src.synthetic = is_synthetic(meta) or (kind == "embeddings" and is_synthetic(str(path)))
    if meta is not None:
        src.patients = _patients(src, meta, meta_id_col, patient_col)
    return src


def _patients(src: Source, meta: str, meta_id_col: str | None, patient_col: str | None) -> list[str]:
    """The patient of each id of ``src`` from its metadata table (every id must be listed once)."""
    from curate.tables import read_table

    df = read_table(meta, text=True, empty_as_na=False)
    col = patient_col or ("patient_id" if "patient_id" in df.columns else None)
    if col is None or col not in df.columns:
        raise InputError(f"--meta {src.name}: no patient column '{patient_col or 'patient_id'}' "
                         f"(--patient-col); columns: {', '.join(map(str, df.columns))}")
    id_col = meta_id_col or next((c for c in ("id", "image_id", "file", "path") if c in df.columns), None)
    if id_col is None or id_col not in df.columns:
        raise InputError(f"--meta {src.name}: no id column '{meta_id_col or 'id'}' (--id-col); columns: "
                         f"{', '.join(map(str, df.columns))}")
    keys = df[id_col].astype(str)
    if keys.duplicated().any():
        raise InputError(f"--meta {src.name}: column '{id_col}' lists {int(keys.duplicated().sum())} ids "
                         "more than once")
    lookup = dict(zip(keys, df[col].astype(str).str.strip()))
    ids = src.ids
    if src.kind == "images" and not all(i in lookup for i in ids):
        stems = [Path(i).with_suffix("").as_posix() for i in ids]  # metadata often lists ids without .png
        if all(s in lookup for s in stems):
            ids = stems
    missing = sum(1 for i in ids if i not in lookup)
    if missing:
        raise InputError(f"--meta {src.name}: {missing} of {len(ids)} ids of input {src.name} have no row in "
                         f"column '{id_col}'")
    patients = [lookup[i] for i in ids]
    blank = sum(1 for p in patients if p in ("", "nan", "None"))
    if blank:
        raise InputError(f"--meta {src.name}: {blank} rows have no value in column '{col}'")
    return patients


def _read_hub(name: str, path: Path, scratch: Path) -> Source:
    """A ``curate publish`` folder: its images unpacked under ``scratch``, its ``patient`` pseudonyms."""
    import pyarrow.parquet as pq

    from curate.output import write_bytes
    from curate.pipeline.publish_columns import IMAGE_COLUMN, PATIENT_COLUMN

    folder = scratch / name
    folder.mkdir(parents=True)
    ids: list[str] = []
    files: list[Path] = []
    patients: list[str] = []
    for shard in sorted((path / "data").glob("*.parquet")):
        try:
            table = pq.read_table(shard)
        except Exception as exc:  # noqa: BLE001 - a damaged shard is the user's input error
            raise InputError(f"hub folder '{path}': cannot read shard '{shard.name}' "
                             f"({exc.__class__.__name__})") from None
        if IMAGE_COLUMN not in table.column_names:
            raise InputError(f"hub folder '{path}': shard '{shard.name}' has no '{IMAGE_COLUMN}' column "
                             "(a card-only folder has no images to compare)")
        images = table.column(IMAGE_COLUMN).to_pylist()
        pats = (table.column(PATIENT_COLUMN).to_pylist() if PATIENT_COLUMN in table.column_names
                else [None] * len(images))
        for k, (img, pat) in enumerate(zip(images, pats)):
            stem = Path((img or {}).get("path") or f"{shard.stem}-{k:06d}.png").name
            target = folder / stem
            if target.exists():
                raise InputError(f"hub folder '{path}': two images are named '{stem}'")
            write_bytes(target, (img or {}).get("bytes") or b"")
            ids.append(stem)
            files.append(target)
            patients.append(pat)
    if not ids:
        raise InputError(f"hub folder '{path}' holds no images")
    has_patients = all(p is not None for p in patients)
    return Source(name, "hub", path, ids, files=files, paths=dict(zip(ids, files)),
                  patients=[str(p) for p in patients] if has_patients else None)
