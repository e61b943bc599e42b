"""Orchestration: what a command runs (read inputs, validate once, call the engine, gather the results).

The CLI and the Python API both call these functions; renderers (cards, report, geo maps, publish, model
cards) receive what they return and compute nothing. See docs/architecture.md for the layers.

- :mod:`~curate.pipeline.card` — build-card's inputs: record, measured composition, engine run, guard;
- :mod:`~curate.pipeline.composition` — a metadata file's measured composition (counts, with disclosure
  control; its tables are protected by the exit gate, :mod:`~curate.output.composition` and
  ``curate.output.composition_splits``);
- :mod:`~curate.pipeline.curation` (+ ``curation_view``) — the engine run behind a card's "Curation" section
  (``run_curation``);
- :mod:`~curate.pipeline.commands` — the "reproduce" command lines (visible flags only);
- :mod:`~curate.pipeline.guard` — the licence guard's decision for a record (upload allowed or not);
- :mod:`~curate.pipeline.publish` (+ ``publish_metadata``, ``publish_columns``) — what ``publish`` decides
  before writing;
- :mod:`~curate.pipeline.dedup`, :mod:`~curate.pipeline.cluster`, :mod:`~curate.pipeline.embed` — the
  engine commands (checks, engine, outputs);
- :mod:`~curate.pipeline.audit` (+ ``audit_inputs``) — the fairness audits over a predictions table;
- :mod:`~curate.pipeline.geo`, :mod:`~curate.pipeline.report` (+ ``report_sections``, ``report_ophthalmic``),
  :mod:`~curate.pipeline.catalog` — per-country totals, every number of the policy report
  (``gather_report``), the catalog commands' listings and validation;
- :mod:`~curate.pipeline.represent` (+ ``represent_published``) — representativeness against UN WPP 2024;
- :mod:`~curate.pipeline.deid_check` — OCR of burned-in text, matched against each file's own header;
- :mod:`~curate.pipeline.inspect` — shortcut, label and image-quality checks (one manager per issue kind).
"""
