"""Representativeness: a dataset's strata against a reference population (Jensen–Shannon distance, ratios).

Computation only (no suppression, no formatting): :mod:`.reference` (WPP 2024 and users' tables),
:mod:`.strata` (sex codes, the shared age grid), :mod:`.stats` (distance, intervals, ratios).
"""

from curate.engine.represent.stats import Comparison, compare, js_distance

__all__ = ["Comparison", "compare", "js_distance"]
