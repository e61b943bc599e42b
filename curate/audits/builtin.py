"""Built-in audits, registered through the ``curate.audits`` entry-point group like any plugin.

An audit is an object with ``name``, ``title``, ``source``, ``needs`` and ``compute(stats)``; ``compute``
receives :class:`curate.audits.metrics.GroupedStats` for one label × one attribute and yields
:class:`Row` (metric, group, values) where ``values`` has one entry per weight row (point estimate first,
then bootstrap replicates). ``across_labels`` maps a metric to a summary metric that the runner averages
over labels (bahre2025's average Gap).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from curate.audits import fairness as F
from curate.audits import metrics as M
from curate.policy.disclosure_audit import ALL  # the group name of attribute-level rows


@dataclass
class Row:
    metric: str
    group: str
    values: np.ndarray
    note: str | None = None


@dataclass
class Audit:
    """Base class for audits (plugins may subclass it or just provide the same attributes)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    source: ClassVar[str] = ""
    #: what the audit needs: "scores" (probabilities), "threshold" (hard predictions), "groups" (an
    #: attribute with ≥ 2 groups; without it the audit also runs on the whole test set), "patients".
    needs: ClassVar[frozenset[str]] = frozenset({"scores", "threshold", "groups"})
    across_labels: ClassVar[dict[str, str]] = {}
    #: each metric's natural range (low, high); the runner clips confidence intervals to it (a mean ± t·SE
    #: over a few seeds can otherwise leave it, e.g. an AUC interval reaching 1.25). Metrics not listed
    #: are not clipped; an ``across_labels`` summary inherits its metric's range.
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    #: metrics whose null hypothesis is "no disparity between groups", tested by permuting patients' group
    #: labels (:mod:`curate.audits.nulltests`): metric → strata, ``"label"`` (shuffle within the true label:
    #: the null is Ŷ ⊥ G | Y, equalized odds) or ``"none"`` (Ŷ ⊥ G, demographic parity). Only metrics
    #: computed from counts (TP, FP, positives, images, calibration residuals) can be permuted.
    null_tests: ClassVar[dict[str, str]] = {}
    #: interval per metric: ``"corrected"`` (bias-corrected lower end; for max − min statistics, whose
    #: percentile interval can never contain 0) or ``"bca"``; every other metric gets the percentile interval.
    intervals: ClassVar[dict[str, str]] = {}
    options: dict = field(default_factory=dict)

    def compute(self, s: M.GroupedStats) -> Iterable[Row]:  # pragma: no cover - abstract
        raise NotImplementedError


def _groups(s: M.GroupedStats, metric: str, arr: np.ndarray, why: str | None = None) -> Iterator[Row]:
    for g, name in enumerate(s.groups):
        v = arr[:, g]
        yield Row(metric, name, v, (why if why and np.isnan(v[0]) else None))


def _undefined(v: np.ndarray, why: str) -> str | None:
    return why if np.isnan(v[0]) else None


NO_POS = "undefined: no positive cases in the group"
NO_NEG = "undefined: no negative cases in the group"
ONE_CLASS = "undefined: the group has one class only"


class Performance(Audit):
    """AUC overall and per group; TPR and FPR per group at the chosen threshold.

    AUC as ``sklearn.metrics.roc_auc_score``; the per-group AUC is luo2024 §5.1 "Group-wise AUC", TPR the
    quantity bahre2025 "Fairness Evaluation" compares.
    """

    name = "performance"
    title = "Performance (AUC, TPR, FPR)"
    source = "luo2024 §5.1 (AUC, group-wise AUC); bahre2025 Fairness Evaluation (TPR)"
    needs = frozenset({"scores", "threshold"})
    ranges = {"AUC": (0.0, 1.0), "TPR": (0.0, 1.0), "FPR": (0.0, 1.0)}
    intervals = {"AUC": "bca"}

    def compute(self, s):
        if s.G == 1 and s.groups == [ALL]:
            yield Row("AUC", ALL, s.auc_all, _undefined(s.auc_all, ONE_CLASS))
            yield Row("TPR", ALL, s.tpr_all, _undefined(s.tpr_all, NO_POS))
            yield Row("FPR", ALL, s.fpr_all, _undefined(s.fpr_all, NO_NEG))
            return
        yield from _groups(s, "AUC", s.auc, ONE_CLASS)
        yield from _groups(s, "TPR", s.tpr, NO_POS)
        yield from _groups(s, "FPR", s.fpr, NO_NEG)


class TPRDisparity(Audit):
    """TPRDisp per group, Gap per label and the average Gap over labels — bahre2025 eqs. (1)–(3), as printed;
    plus ``TPR_diff`` (fairlearn's TPR difference), which unlike Gap is on one scale for every attribute."""

    name = "tpr_disparity"
    title = "TPR disparity and Gap (bahre2025)"
    source = "bahre2025 Fairness Evaluation, eqs. (1)-(3)"
    across_labels = {"Gap": "average_Gap"}
    # TPRDisp is a difference of rates; Gap = max − min TPRDisp, which for a binary attribute is
    # 2·|TPR_a − TPR_b| (eq. 3 applied literally), so it can reach 2
    ranges = {"TPRDisp": (-1.0, 1.0), "Gap": (0.0, 2.0), "TPR_diff": (0.0, 1.0)}
    null_tests = {"TPRDisp": "label", "Gap": "label", "TPR_diff": "label"}
    intervals = {"Gap": "corrected", "TPR_diff": "corrected"}

    def compute(self, s):
        if s.G < 2:
            return
        yield from _groups(s, "TPRDisp", F.tpr_disparity(s), NO_POS)
        gap = F.tpr_gap(s)
        none = s.undefined_groups("tpr")
        note = (f"groups without positives left out: {', '.join(none)}" if none else None)
        yield Row("Gap", ALL, gap, _undefined(gap, "undefined: no group has positive cases") or note)
        diff = F.tpr_difference_stats(s)
        yield Row("TPR_diff", ALL, diff, F.undefined_note(s, ("tpr",)))


class FairCLIP(Audit):
    """DPD, DEOdds, ES-AUC and group-wise AUC — luo2024 §5.1 "Metrics"."""

    name = "fairclip"
    title = "DPD, DEOdds, ES-AUC (luo2024)"
    source = "luo2024 §5.1 Metrics"
    # DPD and DEOdds are max − min of rates (never negative); ES-AUC = AUC / (1 + Σ|…|) ≤ AUC
    ranges = {"DPD": (0.0, 1.0), "DEOdds": (0.0, 1.0), "ES-AUC": (0.0, 1.0), "group_AUC": (0.0, 1.0)}
    null_tests = {"DPD": "none", "DEOdds": "label"}
    intervals = {"DPD": "corrected", "DEOdds": "corrected", "ES-AUC": "bca", "group_AUC": "bca"}

    def compute(self, s):
        if s.G < 2:
            return
        yield Row("DPD", ALL, F.demographic_parity_difference_stats(s))
        deo = F.equalized_odds_difference_stats(s)
        yield Row("DEOdds", ALL, deo, _undefined(deo, "undefined: no group has both classes")
                  or F.undefined_note(s))
        es = F.es_auc_stats(s)
        yield Row("ES-AUC", ALL, es, _undefined(es, "undefined: a group has one class only (AUC undefined)"))
        yield from _groups(s, "group_AUC", s.auc, ONE_CLASS)


class Mammography(Audit):
    """EOD and AOD per group as defined in germani2025 §3 (``AOD_sum`` = EOD + FPR difference, as printed;
    ``AOD_mean`` is the usual average odds difference, half of it). Compared with ``s.conventions.compare``
    (default: the rest of the test set)."""

    name = "eod_aod"
    title = "EOD and AOD (germani2025)"
    source = "germani2025 §3 Implementation details"
    # germani2025's AOD is the SUM of the TPR and FPR differences, so it spans [-2, 2]
    ranges = {"EOD": (-1.0, 1.0), "AOD_sum": (-2.0, 2.0), "AOD_mean": (-1.0, 1.0), "max_abs_EOD": (0.0, 1.0),
              "max_abs_AOD_sum": (0.0, 2.0), "max_abs_AOD_mean": (0.0, 1.0)}
    null_tests = {m: "label" for m in ("EOD", "AOD_sum", "AOD_mean", "max_abs_EOD", "max_abs_AOD_sum",
                                       "max_abs_AOD_mean")}
    intervals = {"max_abs_EOD": "corrected", "max_abs_AOD_sum": "corrected", "max_abs_AOD_mean": "corrected"}

    def compute(self, s):
        if s.G < 2:
            return
        eod, aod = F.eod_stats(s), F.aod_sum_stats(s)
        yield from _groups(s, "EOD", eod, "undefined: no positive cases in the group or its comparison")
        yield from _groups(s, "AOD_sum", aod, "undefined: a class is missing in the group or its comparison")
        yield from _groups(s, "AOD_mean", aod / 2, "undefined: a class is missing in the group or its "
                           "comparison")
        for metric, arr in (("max_abs_EOD", eod), ("max_abs_AOD_sum", aod), ("max_abs_AOD_mean", aod / 2)):
            v = F.nanfn(np.nanmax, np.abs(arr))
            left = [g for g, x in zip(s.groups, arr[0]) if np.isnan(x)]
            note = f"undefined groups left out: {', '.join(left)}" if left else None
            yield Row(metric, ALL, v, _undefined(v, "undefined for every group") or note)


class Calibration(Audit):
    """Expected calibration error overall and per group (10 equal-width bins), and its range."""

    name = "calibration"
    title = "Calibration (ECE per group)"
    source = "Guo et al. 2017 (ECE); per-group reporting as in the Model Cards quantitative analyses"
    needs = frozenset({"scores"})
    ranges = {"ECE": (0.0, 1.0), "ECE_gap": (0.0, 1.0)}
    # no permutation test: "equally calibrated" is Y ⊥ G | score, which shuffling within the label does not
    # test (it would also require equal score distributions); the corrected interval can reach 0
    intervals = {"ECE_gap": "corrected"}

    def compute(self, s):
        if s.G == 1 and s.groups == [ALL]:
            yield Row("ECE", ALL, s.ece_all)
            return
        yield from _groups(s, "ECE", s.ece)
        yield Row("ECE_gap", ALL, F.nanfn(np.nanmax, s.ece) - F.nanfn(np.nanmin, s.ece))


class GroupSizes(Audit):
    """Images, patients, share and prevalence per group; groups under 11 are flagged by the runner."""

    name = "group_sizes"
    title = "Group sizes and prevalence"
    source = "small-cell rule (< 11) of curate's reporting policy"
    needs = frozenset({"groups"})
    ranges = {"n_images": (0.0, np.inf), "n_patients": (0.0, np.inf), "share": (0.0, 1.0),
              "prevalence": (0.0, 1.0)}

    def compute(self, s):
        R = s.weights.shape[0]
        yield from _groups(s, "n_images", s.count)
        if s.units is not None:
            yield from _groups(s, "n_patients", np.broadcast_to(s.n_units.astype(float), (R, s.G)))
        yield from _groups(s, "share", M._div(s.count, s.count.sum(1, keepdims=True)))
        yield from _groups(s, "prevalence", s.prevalence)


# entry-point targets (``curate.audits.builtin:performance`` etc.)
performance = Performance
tpr_disparity = TPRDisparity
fairclip = FairCLIP
eod_aod = Mammography
calibration = Calibration
group_sizes = GroupSizes
