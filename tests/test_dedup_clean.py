"""Dedup's reported bounds against brute-force truth on three data shapes generated here (independently of
curate's generators): clustered with uneven (Dirichlet) cluster sizes, anisotropic (a shared mean direction:
random pairs at cosine 0.5-0.7, loose modes), and clean (few duplicates). Clean data gets a bound on the
share of rows with a missed partner, never a silent exact search (issue 33)."""

from __future__ import annotations

import numpy as np
import pytest

import curate.engine.dedup.api as api
import curate.engine.dedup.recall as recall
from curate.engine.dedup import dedup, describe_recall


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def plant(rng, x, frac):
    """Near-copies of ``frac`` of the rows at cosine uniform in [0.9, 1] (float64 geometry)."""
    src = rng.choice(len(x), max(1, int(frac * len(x))), replace=False)
    c = rng.uniform(0.9, 1.0, len(src))[:, None]
    u = rng.normal(size=(len(src), x.shape[1]))
    u -= (u * x[src]).sum(1, keepdims=True) * x[src]
    dup = c * x[src] + np.sqrt(1 - c * c) * unit(u)
    out = np.vstack([x, dup])
    return out[rng.permutation(len(out))]


def clustered(rng, n, d):
    sizes = rng.multinomial(n, rng.dirichlet(np.full(40, 0.4)))
    centres = unit(rng.normal(size=(40, d)))
    spread = rng.uniform(0.9, 1.6, 40) / np.sqrt(d)
    x = np.vstack([centres[k] + spread[k] * rng.normal(size=(m, d)) for k, m in enumerate(sizes)])
    return plant(rng, unit(x), 0.06)


def anisotropic(rng, n, d):
    mean = unit(rng.normal(size=(1, d)))[0]
    modes = unit(rng.normal(size=(150, d)))
    lab = rng.integers(0, 150, n)
    x = 1.35 * mean + 0.55 * modes[lab] + 0.75 * unit(rng.normal(size=(n, d)))
    return plant(rng, unit(x), 0.06)


def clean(rng, n, d):
    return plant(rng, unit(rng.normal(size=(n, d))), 0.004)


def truth(x, t):
    """Brute force in float64: the true pairs and, per row, its partners."""
    xn = unit(np.asarray(x, np.float64))
    s = xn @ xn.T
    a, b = np.triu_indices(len(x), 1)
    keep = s[a, b] >= t
    return set(zip(a[keep].tolist(), b[keep].tolist()))


def found(res):
    a = res.pairs.id_a.astype(int).to_numpy()
    b = res.pairs.id_b.astype(int).to_numpy()
    return set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist()))


def test_random_pair_cosine_of_the_anisotropic_shape():
    x = unit(anisotropic(np.random.default_rng(0), 2000, 32))
    i, j = np.random.default_rng(1).integers(0, len(x), (2, 4000))
    cos = np.einsum("ij,ij->i", x[i[i != j]], x[j[i != j]])
    assert 0.5 <= np.median(cos) <= 0.7


@pytest.mark.parametrize("shape", [clustered, anisotropic, clean])
def test_reported_bounds_cover_the_truth(shape, monkeypatch):
    """20 seeds per shape through ``auto`` (its exact cut-off lowered to these sizes, the clean search's
    nprobe floor lowered to 1 so that it really misses pairs): every bound reported holds in >= 95 %."""
    monkeypatch.setattr(api, "AUTO_EXACT_BELOW", 500)
    monkeypatch.setattr(recall, "CLEAN_MIN_PROBE", 1)
    covered, missing = [], 0
    for seed in range(20):
        x = shape(np.random.default_rng(seed), 2500, 24).astype(np.float32)
        want = truth(x, 0.9)
        res = dedup(x, 0.9, device="cpu", sample_queries=300, seed=seed)
        s, got = res.summary, found(res)
        assert s["method"] == "ivf" and "fallback" not in s  # never the quadratic search
        assert got <= want
        ok = True
        if s.get("recall_lower_bound") is not None:
            ok &= s["recall_lower_bound"] <= len(got) / max(1, len(want))
        if "missed_row_share_upper" in s:
            lost = want - got
            share = len({r for p in lost for r in p}) / len(x)
            missing += share > 0
            ok &= share <= s["missed_row_share_upper"]
            assert s["certified"] == "missed rows" and "held-out rows" in s["missed_row_basis"]
            assert describe_recall(s).startswith("rows with a missed duplicate partner ≤")
        covered.append(ok)
    assert sum(covered) >= 19, covered
    if shape is not clustered:
        assert missing >= 3  # the search really misses rows, so the bound has something to cover


def test_exact_fallback_is_announced_with_its_estimated_time():
    """An explicit ivf search that cannot certify falls back, and says so (with an estimate) first."""
    x = clean(np.random.default_rng(0), 3000, 16).astype(np.float32)
    stages = []
    res = dedup(x, 0.9, method="ivf", device="cpu", progress=lambda s, d, t: stages.append(s))
    s = res.summary
    assert s["method"] == "exact" and s["exact_estimate_s"] > 0
    first_exact = next(k for k, st in enumerate(stages) if st.startswith("exact search"))
    assert "about" in stages[first_exact] and "ivf -> exact" in stages[first_exact]


def test_clopper_pearson_limits_match_scipy_stats():
    """The limits from scipy.special equal scipy.stats.binomtest's exact interval (the independent oracle)."""
    from scipy.stats import binomtest

    for k, n in [(0, 1), (0, 2000), (3, 2000), (290, 300), (300, 300), (17, 40)]:
        ci_lo = binomtest(k, n, alternative="greater").proportion_ci(0.95, method="exact").low
        ci_hi = binomtest(k, n, alternative="less").proportion_ci(0.95, method="exact").high
        assert recall.cp_lower(k, n) == pytest.approx(ci_lo, abs=1e-12)
        assert recall.cp_upper(k, n) == pytest.approx(ci_hi, abs=1e-12)


def test_centred_clusters_are_balanced_and_the_band_search_stays_complete(monkeypatch):
    """Rows with a shared mean direction are clustered centred: more even clusters than trained on the
    original rows, and the band search over them still finds exactly the brute-force pairs."""
    import curate.engine.dedup.lists as lists
    from curate.engine.dedup.bands import clusters

    x = anisotropic(np.random.default_rng(3), 6000, 24).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert lists.centred_centroids(x, 60, 0) is not None

    def uneven(labels):
        sz = np.bincount(labels, minlength=60).astype(float)
        return (sz**2).sum() / sz.sum() ** 2 * 60  # 1: all equal

    centred = uneven(clusters(x, 60, "cpu", 0)[1])
    monkeypatch.setattr(lists, "CENTRE_FROM", 10.0)  # off: trained on the original rows
    plain = uneven(clusters(x, 60, "cpu", 0)[1])
    monkeypatch.undo()
    assert centred < plain and centred < 1.5, (centred, plain)
    res = dedup(x, 0.9, method="semantic", device="cpu", nlist=60)
    assert found(res) == truth(x, 0.9) and res.summary["recall_lower_bound"] == 1.0


def test_cli_announces_the_exact_fallback_before_it_runs_without_a_terminal(tmp_path):
    """In a log (no terminal, so no progress bar) the fallback to the exact search is still said before the
    search starts, with its estimate, and before the summary lines."""
    import subprocess
    import sys

    x = clean(np.random.default_rng(0), 3000, 16).astype(np.float32)
    np.save(tmp_path / "e.npy", x)
    cmd = [sys.executable, "-m", "curate", "dedup", str(tmp_path / "e.npy"), "--threshold", "0.9",
           "--method", "ivf", "--out", str(tmp_path / "d")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "note: exact search (ivf -> exact" in out and "about" in out
    assert out.index("note: exact search") < out.index("dedup: ")


def test_auto_sample_growth_stays_within_its_budget(monkeypatch):
    """Under auto the held-out sample grows only while its exact search costs at most a search at
    SAMPLE_BUDGET_PROBES does (the cost per held-out row measured on the first rows): with a budget of one
    list per row it stays at its first 2,000 rows and the summary bounds the missed rows; with the default
    budget the same data grow the sample (so the budget is what stopped it)."""
    rng = np.random.default_rng(5)
    x = plant(rng, unit(rng.normal(size=(30000, 16))), 0.06).astype(np.float32)
    monkeypatch.setattr(recall, "SAMPLE_BUDGET_PROBES", 1)
    small = dedup(x, 0.9, device="cpu").summary
    monkeypatch.undo()
    wide = dedup(x, 0.9, device="cpu").summary
    assert small["recall_sample_rows"]["held_out"] == 2000 and small["certified"] == "missed rows"
    assert "fallback" not in small and small["method"] == "ivf"
    assert wide["recall_sample_rows"]["held_out"] > 2000


@pytest.mark.parametrize("ivf_first", [True, False])
def test_large_input_tries_ivf_over_the_band_clusters_before_the_exact_search(monkeypatch, ivf_first):
    """When the two-level lists cannot certify (here: a stored probe order of two lists per row) and the
    band is too wide, IVF over the band plan's √n clusters answers, certified, instead of the quadratic
    search: from AUTO_IVF_FROM rows, where the two-level lists are tried first, and below it, where they
    are tried after the band (thresholds lowered to this size)."""
    import functools

    import curate.engine.dedup.lists as lists
    import curate.engine.dedup.plan as plan

    if ivf_first:
        monkeypatch.setattr(plan, "AUTO_IVF_FROM", 10_000)
    monkeypatch.setattr(api, "ROWS_PER_LIST", 16)  # 1,900 lists: two-level from 1,024
    monkeypatch.setattr(lists, "probe_order", functools.partial(lists.probe_order, cap=2))
    rng = np.random.default_rng(8)
    x = plant(rng, unit(rng.normal(size=(30000, 24))), 0.06).astype(np.float32)
    res = dedup(x, 0.9, device="cpu")
    s = res.summary
    assert s["method"] == "ivf" and "fallback" not in s, s
    assert "at the widest nprobe (2)" in s["ivf_skipped"] and "band volume" in s["semantic_skipped"]
    assert s["nlist"] == api.default_nlist(len(x)) and "lists" not in s  # flat lists, the band's clusters
    # the second index tried on the same held-out rows: each at 97.5 %, 95 % for the statement
    assert s["recall_confidence"] == 0.95 and "97.5% for each of the 2 indexes" in s["recall_basis"]
    assert "(Bonferroni)" in s["recall_basis"] and "one-sided Clopper-Pearson 97.5%" in s["recall_basis"]
    assert s["recall_groups"] >= recall.groups_needed(0.99, 0.975) > recall.groups_needed(0.99, 0.95)
    # the second try read the held-out rows' pairs back from the first; the first's time is reported
    assert s["recall_sample_rows"]["read_back"] > 0 and s["timings"]["ivf_skipped_s"] > 0
    xn = unit(np.asarray(x, np.float64))  # brute force in float64, a block of rows at a time
    want = set()
    for lo in range(0, len(x), 2000):
        r, c = np.nonzero(xn[lo:lo + 2000] @ xn.T >= 0.9)
        keep = r + lo < c
        want |= set(zip((r[keep] + lo).tolist(), c[keep].tolist()))
    got = found(res)
    assert got <= want and s["recall_lower_bound"] <= len(got) / len(want)


def test_auto_splits_the_confidence_over_the_indexes_it_may_try_on_one_sample():
    """Two-level lists under auto may be followed by IVF over the band clusters on the same held-out rows
    (one seed): two chances of a false certificate, so each is tested at 97.5 %. One index, a fixed
    nprobe or an explicit method: one test at 95 %."""
    from dataclasses import replace

    from curate.engine.dedup.plan import SearchPlan, sampled_tries

    two_level = SearchPlan(0.9, "auto", "cpu", clusters=1000, lists=3906)
    assert sampled_tries(two_level) == 2
    for one in (replace(two_level, method="ivf"), replace(two_level, nprobe=8),
                replace(two_level, lists=1000), replace(two_level, clusters=316, lists=390),
                replace(two_level, device="gpu")):
        assert sampled_tries(one) == 1, one
