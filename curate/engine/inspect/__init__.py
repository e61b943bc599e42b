"""Issue managers for ``curate inspect``: one module per kind of issue, in the style of cleanlab's Datalab.

A manager is an object with ``name`` (str), ``needs`` (a subset of :data:`KNOWN_NEEDS`) and
``find(data, **options) -> IssueResult``. It computes only: it returns raw numbers in an
:class:`IssueResult` (a per-row issues frame and a per-item table plus a summary), never suppresses, formats
or writes — the pipeline (:mod:`curate.pipeline.inspect`) does that.

Built-in managers are listed in :data:`BUILTIN`; third-party packages add their own through the
``curate.inspect`` entry-point group, exactly like audits (``curate.audits``)::

    [project.entry-points."curate.inspect"]
    my_check = "my_package.checks:MyManager"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.errors import CurateError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

GROUP = "curate.inspect"
#: What a manager may ask for: embeddings, a label column, attribute columns, a patient column, several
#: annotators' label columns.
KNOWN_NEEDS = frozenset({"embeddings", "labels", "attributes", "patients", "annotators", "files", "images"})
BUILTIN: dict[str, str] = {
    "shortcut": "curate.engine.inspect.shortcut:ShortcutManager",
    "label": "curate.engine.inspect.label:LabelManager",
    "quality": "curate.engine.inspect.quality:QualityManager",
    "outlier": "curate.engine.inspect.outlier:OutlierManager",
    "near_duplicate": "curate.engine.inspect.near_duplicate:NearDuplicateManager",
    "cleanvision": "curate.engine.inspect.vision:VisionManager",
}


@dataclass
class InspectData:
    """What managers read: rows aligned across the embeddings and the metadata columns.

    ``X``: (n, d) float embeddings; ``labels``: the label column (n,) or None; ``attributes``: column name →
    values (n,); ``patients``: patient key per row (n,) (each row its own patient when no patient column is
    given); ``annotators``: column name → labels (n,) for several annotators' columns; ``files``: DICOM
    file paths (the quality check; rows are then files); ``images``: image file paths (the cleanvision
    check; rows are then files).
    """

    X: np.ndarray | None
    labels: np.ndarray | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    patients: np.ndarray | None = None
    annotators: dict[str, np.ndarray] = field(default_factory=dict)
    files: list = field(default_factory=list)
    images: list = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.n
        if self.patients is None:
            self.patients = np.arange(n)
        for name, arr in [("labels", self.labels), ("patients", self.patients),
                          *self.attributes.items(), *self.annotators.items()]:
            if arr is not None and len(arr) != n:
                raise CurateError(f"InspectData: '{name}' has {len(arr)} values for {n} rows")

    @property
    def n(self) -> int:
        if self.X is not None:
            return int(self.X.shape[0])
        if self.labels is not None:
            return len(self.labels)
        if self.files:
            return len(self.files)
        if self.images:
            return len(self.images)
        return len(next(iter(self.attributes.values()), ()))


@dataclass
class IssueResult:
    """A manager's findings.

    ``issues``: one row per flagged (or scored) item: ``row`` (position in the input), ``issue`` (type),
    ``score`` (higher = more likely an issue, documented per manager), ``flagged`` (bool), extra columns.
    ``table``: per-item results that are not per image (e.g. one row per attribute for shortcuts).
    ``summary``: small JSON-able dict of the headline numbers and the settings used.
    ``notes``: plain sentences about what was skipped and why (no identifiers, no values).
    """

    name: str
    issues: pd.DataFrame
    table: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _load(name: str, target: str | object) -> object:
    try:
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            obj = getattr(import_module(module), attr)
        else:
            obj = target.load()  # an entry point
    except Exception as exc:  # a broken plugin must not look like a curate bug
        raise CurateError(f"inspect manager '{name}' failed to load: {exc}") from exc
    manager = obj() if isinstance(obj, type) else obj
    for attr in ("find", "needs"):
        if not hasattr(manager, attr):
            raise CurateError(f"inspect manager '{name}' has no '{attr}' (see docs/inspect.md)")
    unknown = set(manager.needs) - KNOWN_NEEDS
    if unknown:
        raise CurateError(f"inspect manager '{name}' needs unknown inputs: {', '.join(sorted(unknown))}")
    if not getattr(manager, "name", None):
        manager.name = name
    return manager


def manager_names() -> list[str]:
    """Built-in names, then plugin names (nothing imported)."""
    extra = sorted({ep.name for ep in entry_points(group=GROUP)} - set(BUILTIN))
    return [*BUILTIN, *extra]


def get_managers(names: list[str] | None = None) -> list[object]:
    """The managers to run: the named ones (unknown names are a usage error) or every built-in one."""
    plugins = {}
    for ep in entry_points(group=GROUP):
        plugins.setdefault(ep.name, ep)
    chosen = list(names) if names else list(BUILTIN)
    out = []
    for n in chosen:
        if n in BUILTIN:
            out.append(_load(n, BUILTIN[n]))
        elif n in plugins:
            out.append(_load(n, plugins[n]))
        else:
            raise UsageError(f"unknown check '{n}' (available: {', '.join(manager_names())})")
    return out
