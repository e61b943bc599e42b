"""Label manager: suspected label errors from patient-grouped out-of-sample probabilities, via cleanlab.

Out-of-sample class probabilities come from logistic regression (``sklearn.linear_model.LogisticRegression``)
on the embeddings with patient-grouped k-fold (:mod:`curate.engine.inspect._cv`). curate's probe heads
(:mod:`curate.audits.heads`) are not used: they train with early stopping on a validation split and take
seconds per fit, and confident learning needs one fit per fold; a linear probe on frozen embeddings is the
standard out-of-sample estimator (Northcutt et al. 2021, "Confident learning", JAIR 70, §2 and §6).

The probabilities go to ``cleanlab.filter.find_label_issues`` (prune by noise rate; Northcutt et al. §3)
and ``cleanlab.rank.get_label_quality_scores`` (self-confidence) — cleanlab is the implementation, not
re-written here. Score = 1 − label quality (higher = more suspect). With ``grouped=False`` the folds are
ordinary (rows, stratified), which leaks a patient's other images into training: kept only so the two can
be compared (docs/inspect.md).

Several annotators' label columns: Cohen's kappa for each pair (``sklearn.metrics.cohen_kappa_score``) and
Fleiss' kappa over all (``statsmodels.stats.inter_rater.fleiss_kappa``; Fleiss 1971, Psychol Bull 76:378).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.engine.inspect._cv import check_patients, fast_sklearn, oof_proba, patient_folds, reduce
from curate.errors import InputError, UsageError, require

#: A label with more classes than this is not a classification label.
MAX_CLASSES = 50


@dataclass
class LabelOptions:
    n_splits: int = 5
    grouped: bool = True
    components: int | None = None
    filter_by: str = "prune_by_noise_rate"
    seed: int = 0

    def validate(self) -> None:
        if self.n_splits < 2:
            raise UsageError("n_splits must be ≥ 2")
        if self.filter_by not in ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
                                  "predicted_neq_given"):
            raise UsageError(f"filter_by '{self.filter_by}' is not a cleanlab filter")


def out_of_sample_proba(X: np.ndarray, labels: np.ndarray, patients: np.ndarray, opt: LabelOptions
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(classes, probabilities (n, classes)) out of fold; patient-grouped unless ``opt.grouped`` is False."""
    classes = np.unique(labels)
    if opt.grouped:
        folds = patient_folds(patients, opt.n_splits, opt.seed)
    else:
        from sklearn.model_selection import StratifiedKFold

        folds = np.empty(len(labels), dtype=np.int64)
        skf = StratifiedKFold(opt.n_splits, shuffle=True, random_state=opt.seed)
        for f, (_, te) in enumerate(skf.split(np.zeros(len(labels)), labels)):
            folds[te] = f
    return classes, oof_proba(reduce(X, opt.components, opt.seed), labels, folds, classes)


def annotator_agreement(annotators: dict[str, np.ndarray]) -> dict:
    """Pairwise Cohen's kappa and Fleiss' kappa over rows every annotator labelled."""
    import pandas as pd
    from sklearn.metrics import cohen_kappa_score

    frame = pd.DataFrame({k: pd.Series(v).astype("string") for k, v in annotators.items()}).dropna()
    pairs = [{"a": a, "b": b, "cohen_kappa": float(cohen_kappa_score(frame[a], frame[b])), "rows": len(frame)}
             for a, b in combinations(frame.columns, 2)]
    out = {"pairs": pairs, "rows": len(frame), "fleiss_kappa": None}
    if len(frame.columns) >= 2 and len(frame):
        inter = require("statsmodels.stats.inter_rater", "inspect")
        table, _ = inter.aggregate_raters(frame.to_numpy().astype(str))
        out["fleiss_kappa"] = float(inter.fleiss_kappa(table, method="fleiss"))
    return out


class LabelManager:
    """Ranked suspected label errors (cleanlab on patient-grouped out-of-sample probabilities)."""

    name = "label"
    needs = ("embeddings", "labels", "patients")

    def find(self, data: InspectData, **options) -> IssueResult:
        with fast_sklearn():
            return self._find(data, **options)

    def _find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = LabelOptions(**options)
        opt.validate()
        if data.X is None or data.labels is None:
            raise UsageError("the label check needs embeddings and a label column")
        cl_filter = require("cleanlab.filter", "inspect")
        cl_rank = require("cleanlab.rank", "inspect")
        labels = np.asarray(data.labels).astype(str)
        patients = np.asarray(data.patients).astype(str)
        notes: list[str] = []
        summary: dict = {"n_splits": opt.n_splits, "grouped": opt.grouped, "filter_by": opt.filter_by,
                         "model": "sklearn LogisticRegression", "seed": opt.seed}
        if data.annotators:
            summary["agreement"] = annotator_agreement(data.annotators)
        classes = np.unique(labels)
        if len(classes) < 2:
            notes.append("the label has a single class: label issues are not looked for")
            return IssueResult(self.name, pd.DataFrame(columns=["row", "issue", "score", "flagged"]),
                               summary=summary, notes=notes)
        if len(classes) > MAX_CLASSES:
            raise InputError(f"the label has {len(classes)} classes (more than {MAX_CLASSES}): give a "
                             "classification label")
        if opt.grouped:
            check_patients(patients, opt.n_splits)
        classes, P = out_of_sample_proba(data.X, labels, patients, opt)
        y = np.searchsorted(classes, labels)
        quality = cl_rank.get_label_quality_scores(y, P, method="self_confidence")
        flagged = cl_filter.find_label_issues(y, P, filter_by=opt.filter_by, n_jobs=1)  # no worker processes
        issues = pd.DataFrame({"row": np.arange(len(y)), "issue": "label", "score": 1.0 - quality,
                               "flagged": flagged, "given_label": labels,
                               "suggested_label": classes[P.argmax(1)]})
        issues = issues.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
        summary.update({"flagged": int(flagged.sum()), "rows": len(y), "classes": len(classes)})
        return IssueResult(self.name, issues, summary=summary, notes=notes)
