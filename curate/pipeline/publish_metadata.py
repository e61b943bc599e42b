"""Read and check the per-image metadata and the image folder before anything is written.

Everything here runs before the (long) encoding step, so a bad input fails in seconds with one line:
a missing/empty/unreadable file, a ``--column`` naming a column that does not exist, non-numeric ages,
images the metadata references but the folder lacks, and images in the folder the metadata does not
describe. Messages name columns, counts and row numbers — never identifier values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from curate.errors import InputError, UsageError
from curate.policy.roles import ROLES as _ROLES
from curate.policy.roles import infer_roles, parse_column_specs  # noqa: F401 - parse_column_specs re-exported

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


# the role vocabulary and ``parse_column_specs`` are the policy's: one list for every command
ROLES = _ROLES

_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")


@dataclass
class Roles:
    """Which metadata column plays which part; ``None`` where absent."""

    image: str
    patient: str | None = None
    age: str | None = None
    split: str | None = None
    labels: list[str] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)  # sex, race, ... (passed on to the card)

    def as_dict(self) -> dict[str, list[str]]:
        """``{role: [columns]}`` in the policy's vocabulary (for the allow-list)."""
        out = {role: [col] for role, col in self.other.items()}
        for role in ("image", "patient", "age", "split"):
            if getattr(self, role):
                out[role] = [getattr(self, role)]
        if self.labels:
            out["label"] = list(self.labels)
        return out

    def as_card_columns(self) -> dict[str, str]:
        """Role → column mapping in ``build_card``'s vocabulary (for the published table)."""
        cols = dict(self.other)
        for role in ("patient", "age", "split"):
            if getattr(self, role):
                cols[role] = getattr(self, role)
        return cols


def resolve_roles(df: pd.DataFrame, columns: dict[str, list[str]], *, keep_split: bool = True,
                  role_options: dict[str, str] | None = None) -> Roles:
    """Roles by :func:`curate.policy.roles.infer_roles` (explicit first, then common names, then labels).

    Every named column must exist; one given an attribute role must not look like an identifier.
    """
    for role, cols in columns.items():
        for c in cols:
            if c not in df.columns:
                raise InputError(
                    f"column '{c}' (for {role}) not found in the metadata (columns: {', '.join(df.columns)})"
                )
    found = infer_roles(df, columns, role_options=role_options)

    def pick(role: str) -> str | None:
        return found[role][0] if found.get(role) else None

    image = pick("image")
    if image is None:
        raise InputError(
            "no image column found in the metadata: name it with --column image=COL "
            f"(columns: {', '.join(df.columns)})"
        )
    split = pick("split") if "split" in columns or (pick("split") or "").lower() == "split" else None
    roles = Roles(image=image, patient=pick("patient"), age=pick("age"),
                  split=split if keep_split or "split" in columns else None,
                  labels=list(found.get("label", [])))
    for role in ("sex", "race", "ethnicity", "nationality", "device", "site"):
        if pick(role):
            roles.other[role] = pick(role)
    used = [c for c in (roles.image, roles.patient, roles.age, roles.split, *roles.other.values()) if c]
    if len(set(used)) != len(used) or set(used) & set(roles.labels):
        raise UsageError("one column cannot play two roles (image, patient, age, split, sex, ... label)")
    return roles


def check_ages(df: pd.DataFrame, col: str) -> pd.Series:
    """Ages in years (NaN where missing): numbers or DICOM Age Strings (``060Y``, ``018M``, ...).

    The one age check of every command (build-card, publish, ...): any other text is an error naming the
    column, the count and the first bad row (never the value).
    """
    import pandas as pd

    from curate.scan.dicom_header import dicom_ages

    raw = df[col]
    num = pd.to_numeric(dicom_ages(raw), errors="coerce")
    bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0]) + 2  # +1 header line, +1 one-based
        raise InputError(
            f"column '{col}' (age) has {int(bad.sum()):,} non-numeric value(s) (first at line {first}); "
            "ages must be numbers of years or DICOM Age Strings such as 060Y"
        )
    neg = int((num < 0).sum())
    if neg:
        raise InputError(f"column '{col}' (age) has {neg:,} negative value(s)")
    return num.astype(float)


def check_split_names(values: pd.Series, col: str) -> list[str]:
    """Split names must be present and valid hub split names (``train``, ``validation``, ``test`` ...)."""
    if values.isna().any() or (values.astype(str).str.strip() == "").any():
        raise InputError(f"split column '{col}' has {int(values.isna().sum())} missing value(s)")
    names = sorted(values.astype(str).str.strip().unique(), key=_split_order)
    bad = [n for n in names if not _SPLIT_NAME.match(n)]
    if bad:
        raise InputError(f"split column '{col}' has names the hub rejects: {', '.join(bad)} "
                         "(use letters, digits and underscores)")
    return names


def _split_order(name: str) -> tuple[int, str]:
    order = {"train": 0, "validation": 1, "valid": 1, "val": 1, "dev": 1, "test": 2}
    return (order.get(name.lower(), 3), name)


def scan_images(folder: str | Path) -> dict[str, Path]:
    """Every image file under ``folder`` (recursively, hidden files skipped), keyed by relative POSIX path."""
    root = Path(folder)
    if not root.exists():
        raise InputError(f"images folder '{root}' not found")
    if not root.is_dir():
        raise InputError(f"--images '{root}' is not a folder")
    from curate.scan.images import PIL_EXTENSIONS  # published as images: what PIL (datasets.Image) decodes

    found: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and p.suffix.lower() in PIL_EXTENSIONS:
            found[rel.as_posix()] = p
    if not found:
        raise InputError(f"images folder '{root}' holds no images ({', '.join(PIL_EXTENSIONS)})")
    return found


def match_images(refs: pd.Series, on_disk: dict[str, Path], col: str) -> list[Path]:
    """Map each metadata reference to its file: by relative path, then file name, then name without
    extension (BRSET's ``image_id`` column holds ``img00001`` for ``img00001.jpg``).

    Raises when a referenced image is missing, when a name is ambiguous, when two rows name one file,
    and when the folder holds images the metadata does not describe.
    """
    by_name: dict[str, list[str]] = {}
    by_stem: dict[str, list[str]] = {}
    for rel in on_disk:
        name = rel.rsplit("/", 1)[-1]
        by_name.setdefault(name, []).append(rel)
        by_stem.setdefault(name.rsplit(".", 1)[0], []).append(rel)
    if refs.isna().any():
        raise InputError(f"image column '{col}' has {int(refs.isna().sum())} empty value(s)")
    chosen: list[str] = []
    missing: list[int] = []
    ambiguous = 0
    for i, ref in enumerate(refs.astype(str).str.strip().str.replace("\\", "/", regex=False)):
        ref = ref.removeprefix("./")
        if ref in on_disk:
            chosen.append(ref)
            continue
        hits = by_name.get(ref) or by_stem.get(ref) or by_stem.get(ref.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        if not hits:
            missing.append(i)
            chosen.append("")
        elif len(hits) > 1:
            ambiguous += 1
            chosen.append("")
        else:
            chosen.append(hits[0])
    if missing:
        raise InputError(
            f"{len(missing)} image(s) named in column '{col}' are missing from the images folder "
            f"(first at metadata line {missing[0] + 2})"
        )
    if ambiguous:
        raise InputError(f"{ambiguous} image name(s) in column '{col}' match several files in the images "
                         "folder; use paths relative to the folder")
    if len(set(chosen)) != len(chosen):
        raise InputError(f"{len(chosen) - len(set(chosen))} row(s) of the metadata name an image "
                         "that another row already names")
    extra = len(on_disk) - len(set(chosen))
    if extra:
        raise InputError(
            f"{extra} image(s) in the images folder are not in the metadata; add rows for them or move "
            "them out of the folder"
        )
    return [on_disk[c] for c in chosen]


def read_keep_list(path: str | Path) -> list[str]:
    """A dedup keep-list: one id per line; blank lines and ``#`` comments are skipped."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"keep-list '{p}' not found")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read keep-list '{p}': {getattr(exc, 'strerror', None) or exc}") from exc
    ids = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not ids:
        raise InputError(f"keep-list '{p}' is empty")
    return ids


def keep_mask(refs: pd.Series, files: list[Path], keep: list[str]) -> pd.Series:
    """Rows whose image id (the metadata value, its file name or its name without extension) is kept."""
    import pandas as pd

    wanted = set(keep)
    keys = [
        {str(r), str(r).rsplit("/", 1)[-1], f.name, f.stem}
        for r, f in zip(refs.astype(str).str.strip(), files)
    ]
    mask = pd.Series([bool(k & wanted) for k in keys], index=refs.index)
    matched: set[str] = set().union(*(k & wanted for k in keys)) if keys else set()
    unmatched = len(wanted - matched)
    if unmatched:
        raise InputError(f"{unmatched} of {len(wanted)} id(s) in the keep-list match no image in the "
                         "metadata (was it made from another dataset?)")
    return mask
