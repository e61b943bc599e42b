"""Discover audits through Python entry points (group ``curate.audits``).

Built-ins are registered in curate's own ``pyproject.toml`` exactly like a third-party package would::

    [project.entry-points."curate.audits"]
    my_audit = "my_package.audits:MyAudit"

An entry point may name an audit class (instantiated with no arguments), a zero-argument factory or an
instance. It must provide ``name``, ``needs`` and ``compute(stats)``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from curate.errors import CurateError, UsageError

GROUP = "curate.audits"
KNOWN_NEEDS = frozenset({"scores", "threshold", "groups", "patients"})


def _instantiate(obj, ep_name: str):
    audit = obj() if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "compute")) else obj
    for attr in ("compute", "needs"):
        if not hasattr(audit, attr):
            raise CurateError(f"audit plugin '{ep_name}' has no '{attr}' (see docs/audits.md)")
    unknown = set(audit.needs) - KNOWN_NEEDS
    if unknown:
        raise CurateError(f"audit plugin '{ep_name}' needs unknown inputs: {', '.join(sorted(unknown))}")
    if not getattr(audit, "name", None):
        audit.name = ep_name
    return audit


def entry_point_names() -> list[str]:
    """Names registered in the ``curate.audits`` group (nothing imported)."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def available_audits() -> dict[str, object]:
    """Load every registered audit: name → audit object. Read fresh each call (plugins can appear)."""
    found: dict[str, object] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in found:
            continue  # the first distribution wins; duplicates are ignored
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not take the built-ins down with it
            raise CurateError(f"audit plugin '{ep.name}' ({ep.value}) failed to load: {exc}") from exc
        found[ep.name] = _instantiate(obj, ep.name)
    return found


def get_audits(names: list[str] | None = None) -> list[object]:
    """The audits to run: all registered ones, or the named ones (unknown names are a usage error)."""
    if names:
        registered = entry_point_names()
        unknown = [n for n in names if n not in registered]
        if unknown:
            raise UsageError(
                f"unknown audit '{unknown[0]}' (available: {', '.join(registered) or 'none registered'})"
            )
        chosen = set(names)
        eps = [ep for ep in entry_points(group=GROUP) if ep.name in chosen]
        out: dict[str, object] = {}
        for ep in eps:
            if ep.name not in out:
                try:
                    out[ep.name] = _instantiate(ep.load(), ep.name)
                except CurateError:
                    raise
                except Exception as exc:
                    raise CurateError(f"audit plugin '{ep.name}' ({ep.value}) failed to load: {exc}") from exc
        return [out[n] for n in names]
    audits = list(available_audits().values())
    if not audits:
        raise CurateError("no audits registered under 'curate.audits'; reinstall curate (pip install -e .)")
    return audits
