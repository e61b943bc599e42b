"""What ``curate audit`` and ``curate probe`` check before the work (paths, catalog id, datasheet,
references), and the probe's training run. The audits themselves are :mod:`curate.pipeline.audit`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from curate.errors import InputError, UsageError


@dataclass
class AuditInputs:
    """The checked extras of an audit run: the catalog id, references, and the probe's sidecar."""

    dataset: str | None
    reference: dict[str, str] | None
    probe_info: dict | None
    synthetic: bool


def audit_inputs(preds: str, out: str, *, dataset: str | None = None, datasheet: str | None = None,
                 reference: list[str] | None = None, bootstrap: int = 0) -> AuditInputs:
    """Check an audit's inputs and outputs before any work (paths, catalog id, datasheet, references)."""
    import json
    import os

    from curate._paths import check_io, sidecar_of
    from curate.errors import need
    from curate.limits import check_range
    from curate.synthetic import is_synthetic

    need("audit", "matplotlib")
    check_io({"PREDS": preds, "PREDS's sidecar": sidecar_of(preds), "--datasheet": datasheet},
             {"--out": out}, folders=["--out"])
    check_range("bootstrap", bootstrap)
    if dataset:  # unknown ids fail before the work starts
        from curate.catalog import load

        dataset = load().get(dataset).id
    if datasheet is not None:
        if not dataset:
            raise UsageError("--datasheet links the datasheet of --dataset ID: give both")
        if not os.path.isfile(datasheet):
            raise InputError(f"datasheet '{datasheet}' does not exist (write it with `curate build-card`)")
    refs = {}
    for r in reference or []:
        attr, sep, grp = r.partition("=")
        if not sep or not attr.strip() or not grp.strip():
            raise UsageError(f"--reference takes ATTRIBUTE=GROUP (got '{r}')")
        refs[attr.strip()] = grp.strip()
    probe_info = None
    sidecar = os.path.splitext(preds)[0] + ".probe.json"
    if os.path.exists(sidecar):
        with open(sidecar, encoding="utf-8") as f:
            probe_info = json.load(f)
    return AuditInputs(dataset=dataset or None, reference=refs or None, probe_info=probe_info,
                       synthetic=is_synthetic(preds))


def check_probe_out(out: str | os.PathLike) -> str:
    """Refuse an ``--out`` whose sidecar ``preds.probe.json`` exists and was not written by ``curate probe``
    (a file curate did not write is never replaced); returns the sidecar's path. Call before training."""
    import json

    out = os.fspath(out)
    if not out.endswith(".parquet"):
        raise UsageError(f"--out must end in .parquet (got '{out}')")
    sidecar = out[: -len(".parquet")] + ".probe.json"
    if os.path.lexists(sidecar):
        try:
            with open(sidecar, encoding="utf-8") as f:
                old = json.load(f)
            ours = isinstance(old, dict) and {"model", "runs", "split"} <= set(old)
        except (OSError, ValueError):
            ours = False
        if not ours or os.path.islink(sidecar):
            raise UsageError(f"'{sidecar}' exists and was not written by curate probe; --out {out} would "
                             "replace it with its model details: move it or choose another --out")
    return sidecar



def run_probe(emb: str, meta: str, out: str, **options: Any):
    """Check ``curate probe``'s paths and options, then train the probes (:func:`curate.audits.probes.probe`);
    the renderer :func:`curate.cards.probe_out.probe_to_file` writes the result."""
    from curate._paths import check_io, sidecar_of
    from curate.errors import need
    from curate.limits import check_range

    need("embed", "torch")
    from curate.audits.probes import probe

    check_probe_out(out)
    check_io({"EMB": emb, "--meta": meta}, {"--out": out, "--out's sidecar": sidecar_of(out)})
    for key in ("seeds", "epochs", "batch_size"):
        check_range(key, options.get(key))
    return probe(emb, meta, **options)
