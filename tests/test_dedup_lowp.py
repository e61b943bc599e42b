"""bf16 candidate scoring in dedup's exact search (issue 33): its error bound holds against float64 truth on
data shapes chosen to stress it, and the exact search with it finds exactly the float32 search's pairs,
pairs planted within the bound of the threshold included."""

from __future__ import annotations

import numpy as np
import pytest

import curate.engine.dedup.kernel as kernel
from curate.engine.dedup import dedup

torch = pytest.importorskip("torch")  # the `embed` extra; installed with the test extras


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def shapes(rng, n, d):
    """Rows that stress the bound: isotropic, a shared direction (large same-sign products), a few heavy
    coordinates, huge dynamic range, and near-copies of one row."""
    iso = rng.normal(size=(n, d))
    mean = rng.normal(size=d)
    heavy = rng.normal(size=(n, d)) * 0.01
    heavy[:, :3] += rng.normal(size=(n, 3)) * 5
    wide = rng.normal(size=(n, d)) * np.exp(rng.uniform(-12, 4, size=(n, d)))
    base = rng.normal(size=d)
    near = base + 1e-3 * rng.normal(size=(n, d))
    return {"isotropic": iso, "shared direction": 4 * mean + iso, "heavy coordinates": heavy,
            "dynamic range": wide, "near copies": near}


@pytest.mark.parametrize("d", [8, 96, 768, 3000])
def test_bf16_scores_stay_within_the_proven_bound(d):
    rng = np.random.default_rng(d)
    bound = kernel.lowp_bound(d)
    for name, rows in shapes(rng, 300, d).items():
        x = unit(rows).astype(np.float32)
        t = torch.from_numpy(x).to(torch.bfloat16)
        got = (t @ t.T).float().numpy().astype(np.float64)
        x64 = x.astype(np.float64)
        err = np.abs(got - x64 @ x64.T).max()
        assert err <= bound, (name, err, bound)


def test_bound_formula_values():
    """Input rounding 2u + u^2 dominates; float32 summation grows with d (Higham sec. 3.1)."""
    u = 2.0**-8
    assert kernel.lowp_bound(1) == pytest.approx(2 * u + u * u + u * (1 + u) ** 2, rel=1e-5)
    assert 0.0117 < kernel.lowp_bound(768) < 0.0119
    assert kernel.lowp_bound(8192) > kernel.lowp_bound(768)


def planted_near_threshold(rng, n, d, t):
    """Rows with partners planted at cosine in [t - 0.015, t + 0.015] (float64 geometry), inside the bf16
    bound on both sides of the threshold, so any pair decided by a bf16 score alone would be wrong."""
    x = unit(rng.normal(size=(n, d)))
    src = rng.choice(n, n // 4, replace=False)
    c = rng.uniform(t - 0.015, t + 0.015, len(src))[:, None]
    u = rng.normal(size=(len(src), d))
    u -= (u * x[src]).sum(1, keepdims=True) * x[src]
    out = np.vstack([x, c * x[src] + np.sqrt(1 - c * c) * unit(u)])
    return out[rng.permutation(len(out))].astype(np.float32)


@pytest.mark.parametrize("method", ["exact", "ivf"])
def test_exact_search_with_bf16_scores_finds_the_float32_pairs(method, monkeypatch):
    """``exact``, and ``ivf`` that cannot certify (too few duplicate groups) and falls back to it."""
    rng = np.random.default_rng(1)
    x = planted_near_threshold(rng, 3000, 48, 0.9)
    if method == "ivf":
        x = np.vstack([unit(rng.normal(size=(6000, 48))).astype(np.float32), x])
    monkeypatch.setattr(kernel, "LOWP", "off")
    ref = dedup(x, 0.9, method=method, device="cpu")
    monkeypatch.setattr(kernel, "LOWP", "on")
    low = dedup(x, 0.9, method=method, device="cpu")
    assert low.summary["method"] == "exact" and "bfloat16" in low.summary["scores"]
    assert "scores" not in ref.summary and not kernel._Lowp.on  # switched off after the search

    def pairs(r):
        a, b = r.pairs.id_a.astype(int).to_numpy(), r.pairs.id_b.astype(int).to_numpy()
        return set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist()))

    assert pairs(low) == pairs(ref) and len(pairs(ref)) > 300
    # the float64 truth, away from float32 rounding at the threshold itself
    x64 = unit(x.astype(np.float64))
    s = x64 @ x64.T
    a, b = np.triu_indices(len(x), 1)
    above, below = s[a, b] >= 0.9 + 1e-6, s[a, b] < 0.9 - 1e-6
    assert set(zip(a[above].tolist(), b[above].tolist())) <= pairs(low)
    assert not set(zip(a[below].tolist(), b[below].tolist())) & pairs(low)


def test_auto_leaves_small_searches_in_float32():
    """Below LOWP_MIN_WORK importing torch costs more than bf16 saves: auto stays off."""
    assert not kernel.use_lowp(1e9, 64)
    res = dedup(unit(np.random.default_rng(0).normal(size=(500, 16))).astype(np.float32), 0.9, device="cpu",
                method="exact")
    assert "scores" not in res.summary


def test_summary_json_says_the_exact_search_scored_in_bf16(tmp_path, monkeypatch):
    """The statement reaches summary.json through the exit gate, and the console line is unchanged."""
    import json

    from curate.pipeline.dedup import run_dedup

    x = planted_near_threshold(np.random.default_rng(2), 1500, 32, 0.9)
    np.save(tmp_path / "e.npy", x)
    monkeypatch.setattr(kernel, "LOWP", "on")
    run_dedup(str(tmp_path / "e.npy"), tmp_path / "d", threshold=0.9, method="exact", device="cpu")
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert summary["method"] == "exact" and "proven error bound" in summary["scores"]
