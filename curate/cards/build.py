"""``build_card``: one dataset → datasheet (Markdown + HTML), Hugging Face card, Croissant RAI record.

Inputs are checked (record, metadata file, column roles) before anything is written, and the output folder
is written through :func:`curate._io.atomic_dir`, so a failure never leaves a half-written folder.

>>> import curate
>>> build = curate.build_card("BRSET", out="/tmp/brset-card")        # doctest: +SKIP
>>> sorted(p.name for p in build.paths.values())                     # doctest: +SKIP
['README.md', 'croissant.json', 'datasheet.html', 'datasheet.md']
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from huggingface_hub import DatasetCard

    from curate.cards.context import CardContext, Section
    from curate.cards.provenance import Provenance
    from curate.catalog import Catalog, Dataset
    from curate.pipeline.composition import Composition
    from curate.pipeline.curation import CurationOptions, Findings
    from curate.policy.terms import TermsDecision

#: Output file names, by role.
FILES: dict[str, str] = {
    "datasheet_md": "datasheet.md",
    "datasheet_html": "datasheet.html",
    "hub_card": "README.md",
    "croissant": "croissant.json",
}
EPOCH_FILE = ".source_date_epoch"
DEFAULT_GALLERY = Path("cards")


@dataclass
class CardBuild:
    """What :func:`build_card` wrote: the folder, each file, and the rendered objects."""

    out: Path
    paths: dict[str, Path]
    dataset: Dataset
    composition: Composition | None
    datasheet_md: str
    hub_card_text: str
    croissant: dict
    provenance: Provenance | None = None
    context: CardContext | None = field(default=None, repr=False)
    curation: Findings | None = field(default=None, repr=False)
    known_issues: Any = None  # the KnownIssues of build-card --inspect (None without it)

    @property
    def hub_card(self) -> DatasetCard:
        """The hub card as a :class:`huggingface_hub.DatasetCard` (built on first use: it imports the Hub
        client, which writing the card does not need)."""
        from huggingface_hub import DatasetCard

        return DatasetCard(self.hub_card_text)


@dataclass
class _Rendered:
    ctx: CardContext
    texts: dict[str, str]
    croissant: dict


def _render(ds: Dataset, catalog: Catalog, *, composition: Composition | None,
            sections: list[Section], parameters: dict[str, Any], epoch: int | None,
            extra_inputs: list[dict[str, str]] | None = None, synthetic: bool = False,
            upload: TermsDecision | None = None) -> _Rendered:
    from curate.cards.context import build_context
    from curate.cards.croissant import build_croissant, dumps
    from curate.cards.datasheet import datasheet_html, render_datasheet
    from curate.cards.hubcard import render_hubcard_text
    from curate.cards.provenance import make_provenance

    # The catalog record is identified once, by the content hash of its parsed record (provenance rows);
    # a second hash of the YAML file's bytes under the same name only confused readers.
    inputs = []
    if composition is not None:
        inputs.append({"role": "metadata", "name": composition.source, "sha256": composition.sha256})
    inputs.extend(extra_inputs or [])
    prov = make_provenance(ds, catalog, inputs=inputs, parameters=parameters, epoch=epoch)
    ctx = build_context(ds, catalog, composition=composition, provenance=prov, extra_sections=sections,
                        synthetic=synthetic, upload=upload)
    md = render_datasheet(ctx)
    card = render_hubcard_text(ctx)
    croissant = build_croissant(ctx)
    texts = {
        "datasheet_md": md,
        "datasheet_html": datasheet_html(md, f"Datasheet: {ctx.title_name}"),
        "hub_card": card,
        "croissant": dumps(croissant),
    }
    return _Rendered(ctx, texts, croissant)


def _write(folder: Path, rendered: _Rendered) -> None:
    from curate.output import write_text  # the exit gate: HTML refused with live markup

    for key, name in FILES.items():
        text = rendered.texts[key]
        write_text(folder / name, text if text.endswith("\n") else text + "\n", atomic=False)


def build_card(
    dataset_id: str,
    *,
    metadata: str | os.PathLike | pd.DataFrame | None = None,
    out: str | os.PathLike | None = None,
    columns: Mapping[str, Any] | Iterable[str] | None = None,
    catalog_dir: str | os.PathLike | None = None,
    overwrite: bool = True,
    extra_sections: Iterable[Section | tuple[str, str]] | None = None,
    embeddings: str | os.PathLike | None = None,
    curation: CurationOptions | None = None,
    synthetic: bool | None = None,
    inspect: str | os.PathLike | None = None,
    overlap: str | os.PathLike | None = None,
) -> CardBuild:
    """Build the datasheet, hub card and Croissant record of one catalog dataset into ``out``.

    Parameters
    ----------
    dataset_id: catalog id or alias (case-insensitive); unknown ids raise with suggestions.
    metadata: optional per-image metadata (CSV/TSV/parquet path, or a DataFrame) for measured composition.
    out: output folder (default ``cards/<ID>``, the catalog-only gallery; required with ``metadata`` or
        ``embeddings``, so a measured card never overwrites the gallery); replaced atomically.
    columns: explicit column roles, ``{"age": "patient_age"}`` or ``["age=patient_age"]``.
    catalog_dir: a folder of your own catalog YAML files merged over the built-in catalog.
    overwrite: replace an existing output folder written by curate (default True).
    extra_sections: ``(title, markdown)`` pairs or :class:`~curate.cards.context.Section` objects
        appended to the datasheet and the hub card (e.g. the engine's "Curation" findings).
    embeddings: per-image embeddings (needs ``metadata``): the curation engine runs on them (dedup,
        leakage, clusters as attribute proxies; :mod:`curate.pipeline.curation`) and a "Curation" section is
        added; the file's sha256 goes into the provenance inputs.
    curation: :class:`~curate.pipeline.curation.CurationOptions` for that run (threshold, k, attributes,
        split/patient columns, a ``curate sample`` file); requires ``embeddings``.
    synthetic: the data are synthetic (:mod:`curate.synthetic`); None: read the marker from ``metadata``
        and ``embeddings`` (``publish`` passes it, as its published table may not carry the column).
    inspect: the output folder of ``curate inspect``: a *Known issues* section (counts per issue type as
        its summary.json shows them) answers the datasheet's "errors, noise or redundancies" question.
    overlap: a ``summary.json`` written by ``curate overlap`` with this dataset among its inputs (named by
        ``--id A=<ID>``): adds the section "Overlap with other datasets" (measured lineage).
    """
    from curate.cards.context import as_sections
    from curate.pipeline.card import card_inputs

    if overlap is not None and out is None:
        from curate.errors import UsageError

        raise UsageError("--overlap adds a measured section: give --out (the default cards/ID is the "
                         "catalog-only gallery)")

    got = card_inputs(dataset_id, metadata=metadata, out=out, columns=columns, catalog_dir=catalog_dir,
                      embeddings=embeddings, curation=curation, synthetic=synthetic, gallery=DEFAULT_GALLERY,
                      inspect=inspect)
    ds, catalog, composition, cur = got.dataset, got.catalog, got.composition, got.findings
    target = got.target
    sections = as_sections(extra_sections)
    rep = got.represent
    if rep is not None:
        from curate.cards.representativeness import card_section

        sections.append(card_section(rep, chart=_can_draw()))
    if cur is not None:
        from curate.cards.curation import curation_section

        sections.append(curation_section(cur))
    extra_inputs = list(cur.inputs) if cur is not None else []
    if got.known_issues is not None:
        from curate.cards.known_issues import known_issues_section

        sections.append(known_issues_section(got.known_issues))
        extra_inputs.append({"role": "inspect", "name": f"{got.known_issues.source}/summary.json",
                             "sha256": got.known_issues.sha256})
    if overlap is not None:
        from curate.cards.overlap import overlap_section
        from curate.pipeline.overlap import card_overlap

        sections.append(overlap_section(card_overlap(overlap, ds.id)))
    # Into the gallery (default --out) from the catalog alone: the gallery's fixed build time, so the
    # README's `curate build-card BRSET` reproduces the committed card byte for byte.
    in_gallery = out is None and composition is None and cur is None and got.known_issues is None
    rendered = _render(ds, catalog, composition=composition, sections=sections, parameters=got.parameters,
                       epoch=gallery_epoch(DEFAULT_GALLERY) if in_gallery else None,
                       extra_inputs=extra_inputs or None, synthetic=got.synthetic,
                       upload=got.upload)
    from curate._io import atomic_dir

    with atomic_dir(target, overwrite=overwrite, kind="build-card", make_parents=out is None) as tmp:
        _write(tmp, rendered)
        if rep is not None and _can_draw():
            from curate.cards.representativeness import CARD_CHART, draw_pyramid

            draw_pyramid(rep, tmp / CARD_CHART)
    return CardBuild(
        out=target,
        paths={k: target / name for k, name in FILES.items()},
        dataset=ds,
        composition=composition,
        datasheet_md=rendered.texts["datasheet_md"],
        hub_card_text=rendered.texts["hub_card"],
        croissant=rendered.croissant,
        provenance=rendered.ctx.provenance,
        context=rendered.ctx,
        curation=cur,
        known_issues=got.known_issues,
    )


def _can_draw() -> bool:
    """matplotlib (the geo/audit extras) draws the representativeness chart; without it, no chart."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def gallery_epoch(out: str | os.PathLike) -> int:
    """The gallery's build time: ``$SOURCE_DATE_EPOCH``, else the one stored in ``out``, else now."""
    from curate.cards.provenance import ENV_EPOCH, parse_epoch

    env = parse_epoch(os.environ.get(ENV_EPOCH))
    if env is not None:
        return env
    stored = Path(out) / EPOCH_FILE
    if stored.is_file():
        value = parse_epoch(stored.read_text(encoding="utf-8").strip())
        if value is not None:
            return value
    return int(time.time())


def build_all(
    out: str | os.PathLike = DEFAULT_GALLERY,
    *,
    catalog_dir: str | os.PathLike | None = None,
    overwrite: bool = True,
    epoch: int | None = None,
) -> dict[str, CardBuild]:
    """Build every catalog dataset into ``out/<ID>/`` plus ``out/index.md`` (the gallery), atomically.

    The build time is fixed (``epoch``, else ``$SOURCE_DATE_EPOCH``, else the value stored in
    ``out/.source_date_epoch``) and stored back, so rebuilding an unchanged catalog is byte-identical.
    """
    from curate._io import atomic_dir, write_marker
    from curate.cards._render import render
    from curate.catalog import load

    catalog = load(catalog_dir)
    when = epoch if epoch is not None else gallery_epoch(out)
    target = Path(out)
    rendered = {ds.id: _render(ds, catalog, composition=None, sections=[], parameters={}, epoch=when)
                for ds in catalog}
    builds: dict[str, CardBuild] = {}
    from curate._paths import check_io

    check_io({"--catalog": catalog_dir}, {"--out": target}, folders=["--out"])
    with atomic_dir(target, overwrite=overwrite, kind="build-card --all") as tmp:
        for ds in catalog:
            sub = tmp / ds.id
            sub.mkdir()
            _write(sub, rendered[ds.id])
            write_marker(sub, "build-card")
            r = rendered[ds.id]
            builds[ds.id] = CardBuild(
                out=target / ds.id, paths={k: target / ds.id / n for k, n in FILES.items()}, dataset=ds,
                composition=None, datasheet_md=r.texts["datasheet_md"], hub_card_text=r.texts["hub_card"],
                croissant=r.croissant, provenance=r.ctx.provenance, context=r.ctx,
            )
        from curate.output import write_text

        write_text(tmp / EPOCH_FILE, f"{when}\n", atomic=False)
        contexts = {k: v.ctx for k, v in rendered.items()}
        index = render("index.md.j2", datasets=list(catalog), contexts=contexts,
                       files=FILES, epoch=when)
        write_text(tmp / "index.md", index, atomic=False)
    return builds
