"""``curate probe``'s outputs: the predictions table (a local file of the user's own rows) and its sidecar
``preds.probe.json`` (the model details the fairness model card reads), written through the exit gate."""

from __future__ import annotations

import os
from typing import Any

from curate.pipeline.audit_inputs import check_probe_out


def probe_to_file(emb: str, meta: str, out: str, **options: Any):
    """``curate probe``: check the paths and train the probes
    (:func:`curate.pipeline.audit_inputs.run_probe`), then write the predictions and their sidecar.
    Returns ``(result, path, sidecar)``."""
    from curate.pipeline.audit_inputs import run_probe

    res = run_probe(emb, meta, out, **options)
    path, sidecar = write_probe(res, out)
    return res, path, sidecar


def write_probe(result: Any, out: str | os.PathLike) -> tuple[str, str]:
    """Write a :class:`~curate.audits.probes.ProbeResult` as ``preds.parquet`` and its sidecar
    ``preds.probe.json`` (model details for the model card)."""
    from curate.output import write_json, write_local

    out = os.fspath(out)
    sidecar = check_probe_out(out)
    preds = result.preds  # the user's own rows (a local file, never published): ids, and ...
    patient = result.info.get("patient_col")
    ids = ["id", *([patient] if patient in preds.columns else [])]
    roles = {c: "group" if c == "split" else "value" for c in map(str, preds.columns)
             if c == "seed" or c == "split" or c.startswith("score_")}  # ... what the probe computed, and
    own = [c for c in map(str, preds.columns) if c not in ids and c not in roles]  # META's labels and groups
    write_local(preds, out, ids=ids, roles=roles, input_columns=own)
    write_json(sidecar, result.info)
    return out, sidecar
