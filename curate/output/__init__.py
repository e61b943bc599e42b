"""THE EXIT GATE: every file and every console line that carries counts or per-row data leaves through here.

The gate sits on :mod:`curate.policy` (what is allowed) and :mod:`curate._io` (how a file is written
atomically). A caller *declares* what it hands over and the gate decides what leaves:

- :mod:`curate.output.counts` — declarations of numbers (:class:`Count`, :class:`Counts`,
  :class:`Measure`) and the protections built on :class:`curate.policy.disclosure.Disclosure` (the one
  implementation of small-cell and complementary suppression): :func:`protect_count`,
  :func:`protect_counts`, :func:`protect_crosstab`, :func:`count_table`, :func:`count_grid`,
  :func:`split_counts`, :func:`protect_leakage`, :func:`protect_shares`; a card's composition tables are
  protected in :mod:`curate.output.composition` (+ ``composition_splits``). Raw numbers go in, protected
  numbers (or their ``<11`` / ``*`` markers) come out.
- :mod:`curate.output.files` — :func:`write_table` (parquet / csv with a role per column: the column
  allow-list), :func:`write_json`, :func:`write_text` (Markdown / HTML / text), :func:`write_bytes`,
  :func:`output_folder` / :func:`output_file` (atomic, from :mod:`curate._io`).
- :mod:`curate.output.figures` — :func:`write_figure` (a Matplotlib chart as PNG bytes; synthetic marking).
- :mod:`curate.output.parts` — :func:`protect_parts` (a whole, its flagged part and the part's breakdown).
- :mod:`curate.output.console` — :func:`say`, :func:`warn`, :func:`note`, :func:`say_table`,
  :func:`say_json`, :func:`say_plain`, :func:`error`, :func:`cell`: console lines whose numbers are
  declared fields.
- :mod:`curate.output.local` — :func:`write_local`, :func:`write_local_ids`, :func:`write_local_parquet`
  (streamed batch by batch): local working files keyed by the user's own row ids (identifiers only in the
  declared id columns), never published.
- :mod:`curate.output.figures` — :func:`write_figure`, :func:`figure_bytes`: charts, every text of them
  checked for identifiers, synthetic charts marked.

Order of the checks, for every output: (1) column allow-list and identifiers (names, then every value that
becomes a label), (2) disclosure (declared counts protected; a count column or count field still holding
1 .. 10 is refused), (3) HTML safety (no live markup), (4) synthetic marking (outputs of synthetic data say
so). A refusal raises :class:`GateError` (a bug in the caller: nothing is written).
"""

from __future__ import annotations

from curate.output.console import cell, error, note, say, say_json, say_plain, say_table, warn, width
from curate.output.counts import (
    Count,
    Counts,
    GateError,
    Measure,
    Shown,
    count_grid,
    count_table,
    protect_count,
    protect_counts,
    protect_crosstab,
    protect_leakage,
    protect_shares,
    protect_table,
    split_counts,
)
from curate.output.figures import figure_bytes, write_figure
from curate.output.files import (
    ROLES,
    label_reason,
    output_file,
    output_folder,
    write_bytes,
    write_dataset,
    write_json,
    write_table,
    write_text,
)
from curate.output.local import LOCAL_ROLES, write_local, write_local_ids, write_local_parquet
from curate.output.parts import protect_parts

__all__ = [
    "LOCAL_ROLES", "ROLES", "Count", "Counts", "GateError", "Measure", "Shown", "cell", "count_grid",
    "count_table", "error", "figure_bytes", "label_reason", "note", "output_file", "output_folder",
    "protect_count", "protect_counts", "protect_crosstab", "protect_leakage", "protect_parts",
    "protect_shares", "protect_table", "say",
    "say_json", "say_plain", "say_table", "split_counts", "warn", "width", "write_bytes", "write_dataset",
    "write_figure", "write_json", "write_local", "write_local_ids", "write_local_parquet", "write_table",
    "write_text",
]
