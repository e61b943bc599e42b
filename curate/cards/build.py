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

from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from huggingface_hub import DatasetCard

    from curate.cards.composition import Composition
    from curate.cards.context import CardContext, Section
    from curate.cards.provenance import Provenance
    from curate.catalog import Catalog, Dataset
    from curate.engine.findings import CurationOptions, Findings

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
            extra_inputs: list[dict[str, str]] | None = None, synthetic: bool = False) -> _Rendered:
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
                        synthetic=synthetic)
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
    for key, name in FILES.items():
        text = rendered.texts[key]
        (folder / name).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


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
        leakage, clusters as attribute proxies; :mod:`curate.engine.findings`) and a "Curation" section is
        added; the file's sha256 goes into the provenance inputs.
    curation: :class:`~curate.engine.findings.CurationOptions` for that run (threshold, k, attributes,
        split/patient columns, a ``curate sample`` file); requires ``embeddings``.
    synthetic: the data are synthetic (:mod:`curate.synthetic`); None: read the marker from ``metadata``
        and ``embeddings`` (``publish`` passes it, as its published table may not carry the column).
    """
    from curate.cards.composition import measure_composition, parse_column_specs
    from curate.cards.context import as_sections
    from curate.catalog import load
    from curate.synthetic import any_synthetic

    if out is None and (metadata is not None or embeddings is not None):
        # cards/<ID> is the catalog-only gallery (tracked in the repository): no measured card lands there
        raise UsageError("a card measured from --meta/--embeddings needs --out DIR (the default "
                         "cards/ID holds the catalog-only gallery)")
    catalog = load(catalog_dir)
    ds = catalog.get(dataset_id)
    target = Path(out) if out is not None else DEFAULT_GALLERY / ds.id
    from curate._paths import check_io

    check_io({"--metadata": metadata, "--embeddings": embeddings, "--catalog": catalog_dir,
              "--sample": getattr(curation, "sample", None)}, {"--out": target}, folders=["--out"])
    sections = as_sections(extra_sections)
    explicit = parse_column_specs(columns)
    composition = None
    if metadata is not None:
        composition = measure_composition(metadata, explicit)
    elif explicit:
        raise UsageError("--column sets roles of a metadata file: give it with --meta FILE")
    parameters: dict[str, Any] = {"columns": explicit} if explicit else {}
    rep = None
    if metadata is not None:  # patients against WPP 2024 for the record's countries (None: not computable)
        from curate.cards.representativeness import card_representativeness, card_section

        rep = card_representativeness(ds, composition)
        if rep is not None:
            sections.append(card_section(rep, chart=_can_draw()))
    cur = None
    if embeddings is not None:
        if metadata is None:
            raise UsageError("--embeddings needs the per-image metadata: give it with --meta FILE")
        from curate.cards.curation import curation_section
        from curate.engine.findings import run_curation

        # the engine runs once, here; the renderer only prints its findings
        cur = run_curation(metadata, embeddings, curation, composition=composition, dataset_id=ds.id,
                           metadata_name=_meta_name(metadata))
        sections.append(curation_section(cur))
        parameters["curation"] = cur.parameters
    elif curation is not None:
        raise UsageError("curation options need embeddings: give them with --embeddings EMB")
    # Into the gallery (default --out) from the catalog alone: the gallery's fixed build time, so the
    # README's `curate build-card BRSET` reproduces the committed card byte for byte.
    in_gallery = out is None and composition is None and cur is None
    rendered = _render(ds, catalog, composition=composition, sections=sections, parameters=parameters,
                       epoch=gallery_epoch(DEFAULT_GALLERY) if in_gallery else None,
                       extra_inputs=cur.inputs if cur is not None else None,
                       synthetic=any_synthetic(metadata, embeddings) if synthetic is None else synthetic)
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
    )


def _can_draw() -> bool:
    """matplotlib (the geo/audit extras) draws the representativeness chart; without it, no chart."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _meta_name(metadata: Any) -> str:
    """How the metadata is named in the card's commands: the path as given (absolute ones: the name)."""
    from curate.engine.findings import _shown

    return _shown(metadata) if isinstance(metadata, (str, os.PathLike)) else "metadata"


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
        (tmp / EPOCH_FILE).write_text(f"{when}\n", encoding="utf-8")
        contexts = {k: v.ctx for k, v in rendered.items()}
        index = render("index.md.j2", datasets=list(catalog), contexts=contexts,
                       files=FILES, epoch=when)
        (tmp / "index.md").write_text(index, encoding="utf-8")
    return builds
