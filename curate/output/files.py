"""Files that leave: tables with a declared role per column, JSON, text / Markdown / HTML, binary images.

Every writer is atomic (:mod:`curate._io`) and applies, in order: the column allow-list and identifier
checks, the disclosure check on declared counts, HTML safety, and synthetic marking.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.output.counts import GateError, is_small
from curate.policy.identifiers import label_reason

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The column roles a table may declare (the allow-list). Identifiers have no role: they never leave;
#: a patient id leaves only as a keyed pseudonym (``pseudonym``).
ROLES = {
    "count": "a count of individuals (checked: no 1 .. 10 leaves)",
    "group": "a group, class or split label (every value checked for identifiers)",
    "label": "a label value (every value checked for identifiers)",
    "value": "a number or category that identifies no one (a score, a metric, a flag, a marker)",
    "measure": "a number that counts no one (sizes in bytes, seconds, dimensions)",
    "pseudonym": "a keyed pseudonym (curate.policy.pseudonyms), never a raw identifier",
    "file": "an image file name or path inside the published folder (no identifier in it)",
    "text": "free text written by curate (every value checked for identifiers)",
    "kept": "a column the user chose to publish as it is (publish --keep-column), warned about when it "
            "looks like an identifier: its name and values are the user's checked decision",
}
_LABELLED = ("group", "label", "text", "file")


def _check_roles(frame: pd.DataFrame, roles: Mapping[str, str], where: str) -> None:
    from curate.policy.identifiers import name_reason

    missing = [str(c) for c in frame.columns if str(c) not in roles]
    if missing:
        raise GateError(f"{where}: column(s) {missing} have no declared role (allow-list: "
                        f"{', '.join(ROLES)})")
    for col in frame.columns:
        role = roles.get(str(col))
        if role is None:
            raise GateError(f"{where}: column '{col}' has no declared role (allow-list: {', '.join(ROLES)})")
        if role not in ROLES:
            raise GateError(f"{where}: column '{col}' has role '{role}', not one of {', '.join(ROLES)}")
        if role not in ("pseudonym", "file", "kept") and name_reason(col):
            raise GateError(f"{where}: column '{col}' is named like an identifier; identifiers never leave "
                            "(publish a keyed pseudonym, role 'pseudonym')")
        values = frame[col]
        if role == "count":
            small = values[values.map(is_small)]
            if len(small):
                raise GateError(f"{where}: count column '{col}' holds {len(small)} unprotected small "
                                "cell(s); protect it first (curate.output.count_table)")
        elif role in _LABELLED and values.dtype.kind not in "biufcmM":
            for v in values.dropna().unique()[:10_000]:
                why = label_reason(v)
                if why:
                    raise GateError(f"{where}: a value of column '{col}' cannot be published: {why}")


@contextlib.contextmanager
def output_folder(path: str | os.PathLike, *, kind: str | None = None, **kw: Any) -> Iterator[Path]:
    """A temporary folder that replaces ``path`` on success (:func:`curate._io.atomic_dir`)."""
    from curate._io import atomic_dir

    with atomic_dir(path, kind=kind, **kw) as tmp:
        yield tmp


@contextlib.contextmanager
def output_file(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path renamed to ``path`` on success (:func:`curate._io.atomic_file`), for writers the
    gate does not know (an image file, a FAISS index); tables, JSON and text go through ``write_*``."""
    from curate._io import atomic_file

    with atomic_file(path) as tmp:
        yield tmp


def _target(path: str | os.PathLike, atomic: bool):
    """Write directly into an atomic folder being built (``atomic=False``) or atomically on its own."""
    if atomic:
        return output_file(path)
    return contextlib.nullcontext(Path(path))


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *, roles: Mapping[str, str],
                synthetic: bool = False, atomic: bool = True, where: str | None = None) -> Path:
    """A table (``.parquet``, ``.csv``, ``.tsv``) whose every column has a declared role in :data:`ROLES`.

    Counts must already be protected (:func:`curate.output.count_table` or a policy protector): a count
    column holding 1 .. 10 is refused, like an undeclared column, an identifier-named column or a label
    value naming a person. ``synthetic`` adds the ``synthetic`` marker column (:mod:`curate.synthetic`).
    ``atomic=False``: ``path`` lies in a folder being built by :func:`output_folder`.
    """
    from curate.synthetic import COLUMN

    path = Path(path)
    roles = dict(roles)
    if synthetic and COLUMN not in frame.columns:
        frame = frame.assign(**{COLUMN: True})
    if COLUMN in frame.columns:
        roles.setdefault(COLUMN, "value")
    _check_roles(frame, roles, where or path.name)
    with _target(path, atomic) as tmp:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif path.suffix == ".tsv":
            frame.to_csv(tmp, index=False, sep="\t")
        else:
            frame.to_parquet(tmp, index=False)
    return path


def _check_json(obj: Any, counts: set[str], where: str, key: str = "") -> None:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_json(v, counts, where, str(k) if str(k) in counts else key)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _check_json(v, counts, where, key)
    elif key and is_small(obj):
        raise GateError(f"{where}: count '{key}' = {obj} is an unprotected small cell")


def write_json(path: str | os.PathLike, obj: Any, *, counts: Iterable[str] = (), synthetic: bool = False,
               atomic: bool = True) -> Path:
    """A JSON document; ``counts``: keys whose values (and everything under them) are counts of individuals
    (checked: no 1 .. 10 leaves). ``synthetic``: ``"synthetic": true`` and its note come first."""
    from curate.synthetic import SUMMARY_NOTE

    path = Path(path)
    _check_json(obj, set(counts), path.name)
    if synthetic and isinstance(obj, Mapping) and not obj.get("synthetic"):
        obj = {"synthetic": True, "note": SUMMARY_NOTE, **obj}
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"
    with _target(path, atomic) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_text(path: str | os.PathLike, text: str, *, synthetic: bool = False, atomic: bool = True) -> Path:
    """Text, Markdown or HTML (by suffix). HTML with live markup (scripts, handlers, unsafe links) is
    refused (:func:`curate.policy.html.unsafe_markup`). ``synthetic``: a document that does not say
    "synthetic" gets the note as its first line (HTML: refused, its template must say so)."""
    from curate.synthetic import SUMMARY_NOTE

    path = Path(path)
    html = path.suffix.lower() in (".html", ".htm")
    if html:
        from curate.policy.html import unsafe_markup

        bad = unsafe_markup(text)
        if bad:
            raise GateError(f"{path.name}: live markup cannot leave: {', '.join(bad[:5])}")
    if synthetic and "synthetic" not in text.lower():
        if html:
            raise GateError(f"{path.name}: built from synthetic data but does not say so")
        text = f"{SUMMARY_NOTE}\n\n{text}"
    with _target(path, atomic) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_bytes(path: str | os.PathLike, data: bytes, *, atomic: bool = True) -> Path:
    """Binary content that carries no counts as numbers (a chart image, an image file)."""
    path = Path(path)
    with _target(path, atomic) as tmp:
        tmp.write_bytes(data)
    return path


def write_dataset(ds: Any, path: str | os.PathLike, *, roles: Mapping[str, str], image_column: str,
                  atomic: bool = False) -> Path:
    """A published Hugging Face ``datasets.Dataset`` shard (parquet with its features): every column but
    ``image_column`` has a declared role (checked as in :func:`write_table`); the image file names inside
    the shard are checked like role ``file``. ``atomic=False``: inside a folder being built."""
    path = Path(path)
    rest = [c for c in ds.column_names if c != image_column]
    _check_roles(ds.select_columns(rest).to_pandas(), roles, path.name)
    if image_column in ds.column_names:
        for name in ds.data.column(image_column).combine_chunks().field("path").to_pylist():
            why = label_reason(name) if name else None
            if why:
                raise GateError(f"{path.name}: an image file name cannot be published: {why}")
    with _target(path, atomic) as tmp:
        ds.to_parquet(str(tmp))
    return path
