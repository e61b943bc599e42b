"""What ``curate audit`` and ``curate probe`` check before the work (paths, catalog id, datasheet,
references), and the probe's write-out. The audits themselves are :mod:`curate.pipeline.audit`."""

from __future__ import annotations

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


def probe_to_file(emb: str, meta: str, out: str, **options: Any):
    """``curate probe``: check the paths, train the probes (:func:`curate.audits.probes.probe`) and write
    the predictions and their sidecar. Returns ``(result, path, sidecar)``."""
    from curate._paths import check_io, sidecar_of
    from curate.errors import need
    from curate.limits import check_range

    need("embed", "torch")
    from curate.audits.probes import check_probe_out, probe, write_probe

    check_probe_out(out)
    check_io({"EMB": emb, "--meta": meta}, {"--out": out, "--out's sidecar": sidecar_of(out)})
    for key in ("seeds", "epochs", "batch_size"):
        check_range(key, options.get(key))
    res = probe(emb, meta, **options)
    path, sidecar = write_probe(res, out)
    return res, path, sidecar
