"""The one gate for everything that leaves the user's machine.

Every command that writes a card, a hub folder, a report, a model card, a results file or console output
about people goes through this package; no other module keeps its own list of identifier-looking names.

- :mod:`curate.policy.roles` — the metadata-role vocabulary, role inference, identifier detection (by name
  *and* content) and the column allow-list of what may be published.
- :mod:`curate.policy.identifiers` — the identifier heuristics themselves (names, value shapes, people in
  free text, once-per-patient cardinality), used by :mod:`curate.policy.roles`.
- :mod:`curate.policy.pseudonyms` — keyed pseudonyms (HMAC-SHA256 under a key kept outside every output).
- :mod:`curate.policy.disclosure` — disclosure control: one table object that knows its margins and applies
  primary (k < 11) and complementary suppression, audited so that no hidden cell can be solved.
- :mod:`curate.policy.html` — Markdown → HTML with raw HTML escaped and link schemes allow-listed.
- :mod:`curate.policy.terms` — a record's structured use terms, and reading restrictions from licence text.
- :mod:`curate.policy.upload` — the image-upload decision: an allow-list over the licence id
  (:mod:`curate.policy.licence_ids`), the built-in record a user record replaces and the lineage sources;
  plain data in (:class:`~curate.policy.upload.RecordTerms`), a decision naming who decided out.
- :mod:`curate.policy.confusables` — Unicode confusables (UTS #39 data) folded for reading licence text.
"""
