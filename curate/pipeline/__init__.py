"""Orchestration: what a command runs (read inputs, validate, call the engine, gather the results).

The CLI and the Python API both call these functions; renderers (cards, report, geo maps, publish, model
cards) receive what they return and compute nothing. See docs/architecture.md for the layers.

- :mod:`curate.pipeline.composition` — a metadata file's measured composition (counts, with disclosure
  control; tables in :mod:`~curate.pipeline.composition_tables`, per split in ``composition_splits``);
- :mod:`curate.pipeline.guard` — the licence guard's decision for a record (upload allowed or not);
- :mod:`curate.pipeline.curation` — the curation engine run behind a card's "Curation" section
  (``run_curation``: duplicates, leakage, clusters as attribute proxies).
"""
