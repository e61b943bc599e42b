"""Shortcut manager: can an attribute (site, scanner, camera, view) be read off the embeddings, and does it
predict the label?

For each attribute, three measurements (patient-grouped throughout; :mod:`curate.engine.inspect._cv`):

(a) *readability within label classes*: in each label class separately, a logistic regression predicts the
    attribute from the embeddings with patient-grouped k-fold; the out-of-fold ROC AUC (macro one-vs-rest
    for more than two values) is averaged over classes weighted by their rows. Conditioning on the label
    removes the part of the attribute that the label explains, so what remains is acquisition signal
    (the shortcut-testing setting of Brown et al. 2023, "Detecting shortcut learning for fair medical AI
    using shortcut testing", Nat Commun 14:4314, §Methods). Interval: percentile bootstrap over patients.
    p-value: permutation test (Ojala & Garriga 2010, JMLR 11, "Permutation tests for studying classifier
    performance", test 1) with the attribute permuted within each label class — across patients when it is
    constant per patient, across rows otherwise — on the same folds; p = (1 + #{perm ≥ observed}) / (1 + B).
(b) *attribute → label*: the attribute alone (one-hot) predicts the label with the same grouped CV; AUC
    with a patient bootstrap interval, plus Cramér's V of the attribute × label table
    (``scipy.stats.contingency.association``).
(c) *generalisation drop*: a label probe (logistic regression on the embeddings) scored out-of-fold with
    grouped k-fold and with leave-one-value-out (each value of the attribute held out in turn; its patients
    removed from training); drop = AUC(grouped) − AUC(held-out value), paired bootstrap over patients.

Verdict: ``readable`` when (a) has p ≤ alpha / (number of attributes) (Bonferroni; the default number of
permutations is chosen so that p can reach half of that, and too few given is an error) and AUC ≥ ``min_auc``;
``label-linked`` when (b)'s interval lies above 0.5 and its AUC ≥ ``min_auc``. ``shortcut`` = both;
``encoded`` = readable only; ``confounded`` = label-linked only; ``none`` = neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.engine.inspect._cv import (
    auc,
    check_patients,
    fast_sklearn,
    min_patients,
    oof_proba,
    patient_bootstrap,
    patient_folds,
    reduce,
)
from curate.errors import UsageError

#: An attribute with more values than this is not tested (it is closer to an identifier than a site).
MAX_VALUES = 30


@dataclass
class ShortcutOptions:
    n_splits: int = 5
    permutations: int | None = None  # None: enough for p to reach half the per-attribute alpha (≥ 49)
    n_boot: int = 200
    alpha: float = 0.05
    min_auc: float = 0.6
    components: int | None = 32
    seed: int = 0

    def validate(self) -> None:
        if self.n_splits < 2:
            raise UsageError("n_splits must be ≥ 2")
        if self.permutations is not None and self.permutations < 1:
            raise UsageError("permutations must be ≥ 1")
        if self.n_boot < 1:
            raise UsageError("n_boot must be ≥ 1")
        if not 0 < self.alpha < 1:
            raise UsageError("alpha must be between 0 and 1")
        if not 0.5 <= self.min_auc < 1:
            raise UsageError("min_auc must be in [0.5, 1)")


def _constant_per_patient(values: np.ndarray, patients: np.ndarray) -> bool:
    import pandas as pd

    return bool((pd.Series(values).groupby(patients).nunique() <= 1).all())


def _permute(values: np.ndarray, patients: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The attribute permuted across patients (values constant per patient) or across rows."""
    if not _constant_per_patient(values, patients):
        return values[rng.permutation(len(values))]
    uniq, first, inv = np.unique(patients, return_index=True, return_inverse=True)
    per_patient = values[first]
    return per_patient[rng.permutation(len(uniq))][inv]


def readability(X, attr, labels, patients, opt: ShortcutOptions) -> dict:
    """(a): attribute predicted from embeddings within each label class (AUC, interval, p-value)."""
    label_values = np.unique(labels)
    strata = []  # (rows, classes, folds)
    skipped = 0
    for c in label_values:
        rows = np.flatnonzero(labels == c)
        vals = np.unique(attr[rows])
        if len(vals) < 2 or len(np.unique(patients[rows])) < min_patients(opt.n_splits):
            skipped += 1
            continue
        strata.append((rows, vals, patient_folds(patients[rows], opt.n_splits, opt.seed)))
    if not strata:
        return {"auc": float("nan"), "ci": (float("nan"), float("nan")), "p": float("nan"),
                "classes_used": 0, "classes_skipped": skipped}
    weights = np.array([len(r) for r, _, _ in strata], dtype=float)

    def scores(a: np.ndarray) -> list[np.ndarray]:
        return [oof_proba(X[r], a[r], f, v) for r, v, f in strata]

    def stat(a: np.ndarray, Ps: list[np.ndarray]) -> float:
        out = np.array([auc(a[r], P, v) for (r, v, _), P in zip(strata, Ps)])
        ok = np.isfinite(out)
        return float(np.average(out[ok], weights=weights[ok])) if ok.any() else float("nan")

    Ps = scores(attr)
    observed = stat(attr, Ps)
    rng = np.random.default_rng(opt.seed)
    ge = 0
    for _ in range(opt.permutations):
        perm = attr.copy()
        for r, _, _ in strata:
            perm[r] = _permute(attr[r], patients[r], rng)
        ge += stat(perm, scores(perm)) >= observed
    p = (1 + ge) / (1 + opt.permutations)

    used = np.concatenate([r for r, _, _ in strata])
    n = len(attr)

    def boot(rows: np.ndarray) -> float:
        keep = np.zeros(n, dtype=np.int64)  # multiplicity of each row in the resample
        np.add.at(keep, used[rows], 1)
        out = []
        for (r, v, _), P in zip(strata, Ps):
            idx = np.repeat(np.arange(len(r)), keep[r])
            out.append(auc(attr[r][idx], P[idx], v) if len(idx) else np.nan)
        out = np.array(out)
        ok = np.isfinite(out)
        return float(np.average(out[ok], weights=weights[ok])) if ok.any() else float("nan")

    ci = patient_bootstrap(patients[used], boot, n_boot=opt.n_boot, seed=opt.seed)
    return {"auc": observed, "ci": ci, "p": float(p), "classes_used": len(strata), "classes_skipped": skipped}


def attribute_to_label(attr, labels, patients, opt: ShortcutOptions) -> dict:
    """(b): how well the attribute alone (one-hot) predicts the label, and Cramér's V."""
    import pandas as pd
    from scipy.stats.contingency import association

    classes = np.unique(labels)
    onehot = pd.get_dummies(pd.Series(attr.astype(str))).to_numpy(dtype=float)
    folds = patient_folds(patients, opt.n_splits, opt.seed)
    P = oof_proba(onehot, labels, folds, classes)
    value = auc(labels, P, classes)
    ci = patient_bootstrap(patients, lambda r: auc(labels[r], P[r], classes), n_boot=opt.n_boot,
                           seed=opt.seed)
    table = pd.crosstab(attr.astype(str), labels.astype(str)).to_numpy()
    v = float(association(table, method="cramer")) if min(table.shape) > 1 else float("nan")
    return {"auc": value, "ci": ci, "cramers_v": v}


def site_drop(X, attr, labels, patients, opt: ShortcutOptions) -> dict:
    """(c): label-probe AUC with grouped k-fold minus AUC with each attribute value held out in turn."""
    classes = np.unique(labels)
    folds = patient_folds(patients, opt.n_splits, opt.seed)
    P_cv = oof_proba(X, labels, folds, classes)
    sets = []
    for v in np.unique(attr):
        te = attr == v
        sets.append((~np.isin(patients, patients[te]), te))
    P_out = oof_proba(X, labels, folds, classes, test_sets=sets)
    cv, out = auc(labels, P_cv, classes), auc(labels, P_out, classes)
    ci = patient_bootstrap(
        patients, lambda r: auc(labels[r], P_cv[r], classes) - auc(labels[r], P_out[r], classes),
        n_boot=opt.n_boot, seed=opt.seed)
    return {"auc_grouped": cv, "auc_held_out": out, "drop": cv - out, "ci": ci}


def _verdict(readable: bool, linked: bool) -> str:
    return {(True, True): "shortcut", (True, False): "encoded", (False, True): "confounded"}.get(
        (readable, linked), "none")


class ShortcutManager:
    """Shortcut risk per attribute; see the module docstring for the measurements and the verdict."""

    name = "shortcut"
    needs = ("embeddings", "attributes", "patients")

    def find(self, data: InspectData, **options) -> IssueResult:
        with fast_sklearn():
            return self._find(data, **options)

    def _find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = ShortcutOptions(**options)
        opt.validate()
        if data.X is None:
            raise UsageError("the shortcut check needs embeddings")
        if not data.attributes:
            raise UsageError("the shortcut check needs at least one attribute (attributes=...)")
        check_patients(data.patients, opt.n_splits)
        X = reduce(data.X, opt.components, opt.seed)
        patients = np.asarray(data.patients).astype(str)
        labels = None if data.labels is None else np.asarray(data.labels).astype(str)
        notes: list[str] = []
        label_ok = labels is not None and len(np.unique(labels)) >= 2
        if labels is not None and not label_ok:
            notes.append("the label has a single class: attribute → label and the held-out-value drop "
                         "are skipped")
        strata = labels if labels is not None else np.zeros(len(patients), dtype=str)
        tested = {a: np.asarray(v).astype(str) for a, v in data.attributes.items()}
        for a, v in list(tested.items()):
            k = len(np.unique(v))
            if k < 2 or k > MAX_VALUES:
                what = "a single value" if k < 2 else f"more than {MAX_VALUES} values"
                notes.append(f"attribute '{a}' has {what}: skipped")
                del tested[a]
        alpha = opt.alpha / max(1, len(tested))
        need = int(np.ceil(1 / alpha)) - 1  # the smallest p a permutation test can give is 1 / (B + 1)
        if opt.permutations is None:
            opt.permutations = max(49, 2 * need + 1)
        elif opt.permutations < need:
            raise UsageError(f"permutations={opt.permutations} cannot give p ≤ {alpha:.3g} (alpha "
                             f"{opt.alpha} / {len(tested)} attributes, Bonferroni): use at least {need}")
        rows = []
        for a, attr in tested.items():
            ra = readability(X, attr, strata, patients, opt)
            row = {"attribute": a, "values": len(np.unique(attr)), "within_label_auc": ra["auc"],
                   "within_label_auc_low": ra["ci"][0], "within_label_auc_high": ra["ci"][1],
                   "permutation_p": ra["p"], "label_classes_used": ra["classes_used"]}
            if ra["classes_skipped"]:
                notes.append(f"attribute '{a}': {ra['classes_skipped']} label class(es) skipped (one value "
                             f"of the attribute, or fewer than {min_patients(opt.n_splits)} patients)")
            readable = bool(np.isfinite(ra["p"]) and ra["p"] <= alpha and ra["auc"] >= opt.min_auc)
            linked = False
            if label_ok:
                rb = attribute_to_label(attr, labels, patients, opt)
                rc = site_drop(X, attr, labels, patients, opt)
                linked = bool(rb["ci"][0] > 0.5 and rb["auc"] >= opt.min_auc)
                row.update({"attribute_label_auc": rb["auc"], "attribute_label_auc_low": rb["ci"][0],
                            "attribute_label_auc_high": rb["ci"][1], "cramers_v": rb["cramers_v"],
                            "label_auc_grouped": rc["auc_grouped"], "label_auc_held_out": rc["auc_held_out"],
                            "held_out_drop": rc["drop"], "held_out_drop_low": rc["ci"][0],
                            "held_out_drop_high": rc["ci"][1]})
            row.update({"readable": readable, "label_linked": linked, "verdict": _verdict(readable, linked)})
            rows.append(row)
        table = pd.DataFrame(rows)
        summary = {"attributes_tested": len(rows), "alpha_per_attribute": alpha, "min_auc": opt.min_auc,
                   "n_splits": opt.n_splits, "permutations": opt.permutations, "n_boot": opt.n_boot,
                   "components": opt.components, "seed": opt.seed,
                   "verdicts": {r["attribute"]: r["verdict"] for r in rows}}
        issues = pd.DataFrame(columns=["row", "issue", "score", "flagged"])  # dataset-level only
        return IssueResult(name=self.name, issues=issues, table=table, summary=summary, notes=notes)
