"""What ``build-card`` runs before anything is rendered: the record, the measured composition, the engine.

:func:`card_inputs` reads and checks every input (record, metadata file, column roles, embeddings), measures
the composition, runs the curation engine once when embeddings are given, and asks the licence guard for
its decision; :func:`curate.cards.build.build_card` renders what it returns and computes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog import Catalog, Dataset
    from curate.pipeline.composition import Composition
    from curate.pipeline.curation import CurationOptions, Findings
    from curate.policy.terms import TermsDecision


@dataclass
class CardInputs:
    """Everything a card is rendered from (computed here; the renderer only prints it)."""

    dataset: Dataset
    catalog: Catalog
    target: Path
    composition: Composition | None = None
    findings: Findings | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    upload: TermsDecision | None = None
    represent: Any = None  # a RepresentResult against WPP 2024 (build-card --meta), None when not computable
    known_issues: Any = None  # a KnownIssues from a curate inspect folder (build-card --inspect DIR)


def card_inputs(
    dataset_id: str,
    *,
    metadata: str | os.PathLike | pd.DataFrame | None = None,
    out: str | os.PathLike | None = None,
    columns: Mapping[str, Any] | Iterable[str] | None = None,
    catalog_dir: str | os.PathLike | None = None,
    embeddings: str | os.PathLike | None = None,
    curation: CurationOptions | None = None,
    synthetic: bool | None = None,
    gallery: str | os.PathLike = "cards",
    inspect: str | os.PathLike | None = None,
) -> CardInputs:
    """Check the inputs of one card, measure the metadata and run the engine (see ``build_card``).

    The card goes to ``out``, else to ``gallery/<ID>`` (the catalog-only gallery). ``inspect``: the output
    folder of ``curate inspect`` (its summary.json gives the *Known issues* section).
    """
    from curate._paths import check_io
    from curate.catalog import load
    from curate.pipeline.composition import measure_composition, parse_column_specs
    from curate.pipeline.guard import decision_for
    from curate.synthetic import any_synthetic

    if out is None and (metadata is not None or embeddings is not None or inspect is not None):
        # cards/<ID> is the catalog-only gallery (tracked in the repository): no measured card lands there
        raise UsageError("a card measured from --meta/--embeddings/--inspect needs --out DIR (the default "
                         "cards/ID holds the catalog-only gallery)")
    catalog = load(catalog_dir)
    ds = catalog.get(dataset_id)
    target = Path(out) if out is not None else Path(gallery) / ds.id
    check_io({"--metadata": metadata, "--embeddings": embeddings, "--catalog": catalog_dir,
              "--sample": getattr(curation, "sample", None), "--inspect": inspect}, {"--out": target},
             folders=["--out"])
    explicit = parse_column_specs(columns)
    composition = None
    if metadata is not None:
        composition = measure_composition(metadata, explicit)
    elif explicit:
        raise UsageError("--column sets roles of a metadata file: give it with --meta FILE")
    parameters: dict[str, Any] = {"columns": explicit} if explicit else {}
    represent = None
    if composition is not None:  # patients against WPP 2024 for the record's countries (None: not computable)
        from curate.pipeline.represent_published import card_representativeness

        represent = card_representativeness(ds, composition)
    findings = None
    if embeddings is not None:
        if metadata is None:
            raise UsageError("--embeddings needs the per-image metadata: give it with --meta FILE")
        from curate.pipeline.curation import run_curation

        # the engine runs once, here; the renderer only prints its findings
        findings = run_curation(metadata, embeddings, curation, composition=composition, dataset_id=ds.id,
                                metadata_name=metadata_name(metadata))
        parameters["curation"] = findings.parameters
    elif curation is not None:
        raise UsageError("curation options need embeddings: give them with --embeddings EMB")
    known = None
    if inspect is not None:
        from curate.pipeline.known_issues import known_issues

        known = known_issues(inspect)
    return CardInputs(dataset=ds, catalog=catalog, target=target, composition=composition, findings=findings,
                      parameters=parameters, upload=decision_for(ds), represent=represent, known_issues=known,
                      synthetic=(any_synthetic(metadata, embeddings) or bool(known and known.synthetic))
                      if synthetic is None else synthetic)


def metadata_name(metadata: Any) -> str:
    """How the metadata is named in the card's commands: the path as given (absolute ones: the name)."""
    from curate.pipeline.curation import shown_path

    return shown_path(metadata) if isinstance(metadata, (str, os.PathLike)) else "metadata"
