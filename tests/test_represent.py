"""curate represent / curate.representativeness: distances, intervals and ratios against independent oracles.

Oracles: scipy's ``jensenshannon`` on the raw vendored WPP table (read here with pandas, not through
curate), the Wilson interval written out from its formula, REACT's own numbers on its bundled census example
(tests/data/react), and simulation for the bootstrap's coverage.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from curate.engine.represent.reference import WPP_FILE
from tests.conftest import invoke

DATA = Path(__file__).parent / "data" / "react"


def raw_wpp(iso3: str, year: int) -> pd.Series:
    """The WPP row straight from the vendored file (columns F0..F100, M0..M100)."""
    with gzip.open(WPP_FILE, "rt") as fh:
        df = pd.read_csv(fh, keep_default_na=False)
    return df[(df.iso3 == iso3) & (df.year == year)].iloc[0]


def plant(iso3: str = "BRA", year: int = 2020, n: int = 2000, *, ages=(0, 105), seed: int = 0,
          population: pd.Series | None = None) -> pd.DataFrame:
    """``n`` patients drawn from a WPP pyramid (restricted to ``ages``), one image row each."""
    row = raw_wpp(iso3, year) if population is None else population
    cols = [c for c in row.index if re.fullmatch(r"[FM]\d+", c)]
    w = np.array([float(row[c]) if ages[0] <= int(c[1:]) < ages[1] else 0.0 for c in cols])
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(cols), size=n, p=w / w.sum())
    age = np.array([int(cols[i][1:]) for i in pick]) + rng.integers(0, 5, size=n)
    sex = np.array(["Female" if cols[i][0] == "F" else "Male" for i in pick])
    return pd.DataFrame({"image_id": [f"img{i:05d}" for i in range(n)],
                         "patient_id": [f"P{i:05d}" for i in range(n)],
                         "patient_age": age, "patient_sex": sex})


def band(label: str) -> tuple[float, float]:
    if label.endswith("+"):
        return float(label[:-1]), math.inf
    lo, hi = label.split("-")
    return float(lo), float(hi) + 1


def oracle(meta: pd.DataFrame, res, iso3="BRA", year=2020) -> tuple[float, np.ndarray, np.ndarray]:
    """Distance recomputed from the raw ages and the raw WPP row, on the strata the result published."""
    row = raw_wpp(iso3, year)
    counts, pops = [], []
    for r in res.cells.published.to_dict("records"):
        lo, hi = band(str(r["age"]))
        sex = r["sex"]
        word = "Female" if sex == "F" else "Male"
        inside = (meta.patient_sex == word) & (meta.patient_age >= lo) & (meta.patient_age < hi)
        counts.append(int(inside.sum()))
        pops.append(sum(float(row[f"{sex}{a}"]) for a in range(0, 101, 5) if lo <= a < hi))
    return float(jensenshannon(counts, pops, base=2)), np.array(counts), np.array(pops)


# ------------------------------------------------------------------------------------------- ages and sex
@pytest.mark.parametrize("value, expected", [
    ("060Y", (60, 60)), ("018M", (1.5, 1.5)), ("010W", (70 / 365.25,) * 2), ("003D", (3 / 365.25,) * 2),
    (42, (42, 42)), ("42.5", (42.5, 42.5)), ("40-44", (40, 45)), ("40 to 44 years", (40, 45)),
    ("90+", (90, math.inf)), ("85 and over", (85, math.inf)), ("", None), (None, None),
])
def test_age_parser(value, expected):
    from curate.ages import parse_age_interval

    got = parse_age_interval(value)
    assert got == (pytest.approx(expected) if expected else None)


def test_age_parser_refuses_without_echoing_values():
    from curate.ages import age_intervals
    from curate.errors import InputError

    with pytest.raises(InputError) as exc:
        age_intervals(pd.Series(["40", "Smith 1970", "44-40"]), "age")
    assert "2 value(s)" in str(exc.value) and "line 3" in str(exc.value) and "Smith" not in str(exc.value)


def test_sex_codes_need_a_mapping_for_numbers():
    from curate.engine.represent.strata import normalise_sex, parse_sex_codes
    from curate.errors import InputError

    s = pd.Series(["1", "2", "2", None, "O"])
    with pytest.raises(InputError, match="sex-codes"):
        normalise_sex(s)
    assert normalise_sex(s, codes=parse_sex_codes("1=M,2=F")).tolist() == ["M", "F", "F", "unknown", "O"]


# ------------------------------------------------------------------------------------------- reference
def test_wpp_interpolation_and_mixture_against_the_raw_table():
    from curate.engine.represent.reference import wpp_population, wpp_reference

    t = wpp_population("BRA", 2015)
    a, b = raw_wpp("BRA", 2010), raw_wpp("BRA", 2020)
    f40 = t[(t.sex == "F") & (t.age_lo == 40)].population.item()
    assert f40 == pytest.approx((a.F40 + b.F40) / 2)
    cols = [c for c in a.index if re.fullmatch(r"[FM]\d+", c)]
    assert t.population.sum() == pytest.approx(sum((a[c] + b[c]) / 2 for c in cols))
    mix = wpp_reference(["BRA", "PRT"], 2020).table
    p = raw_wpp("PRT", 2020)
    m70 = mix[(mix.sex == "M") & (mix.age_lo == 70)].population.item()
    assert m70 == pytest.approx(b.M70 + p.M70)  # population-weighted mixture = populations added


@pytest.mark.parametrize("bad, message", [
    ("XYZ", "nearest"), ("Brasil", "BRA"), ("ATA", "not in the WPP"),
])
def test_unknown_country_names_the_nearest(bad, message):
    from curate.engine.represent.reference import resolve_country
    from curate.errors import UsageError

    if bad == "Brasil":  # close to a WPP name: resolved through the suggestions, not silently
        with pytest.raises(UsageError, match="BRA"):
            resolve_country(bad)
        return
    with pytest.raises(UsageError, match=message):
        resolve_country(bad)


# ------------------------------------------------------------------------------------------- distances
def test_sample_from_brazil_2020_is_within_sampling_noise():
    from curate.pipeline.represent import representativeness

    meta = plant(n=3000, seed=1)
    res = representativeness(meta, country="BRA", year=2020, reps=1000, seed=0)
    d, counts, pops = oracle(meta, res)
    assert res.overall.distance == pytest.approx(d, abs=1e-12)
    assert res.overall.counts == counts.tolist()
    assert not res.overall.beyond_sampling and res.overall.p_value > 0.05
    assert res.overall.distance <= res.overall.expected_hi
    assert not any(res.overall.flags)
    lo, hi = res.overall.interval  # bias-corrected: it covers the true distance, 0, not the (biased) estimate
    assert lo == 0 < hi < d
    # the marginal distances are scipy on the published cells summed by attribute
    age = res.cells.published.groupby("age", observed=True)[["patients", "population"]].sum()
    assert res.marginals["age"].distance == pytest.approx(jensenshannon(age.patients, age.population, base=2))


def test_sample_from_ages_40_to_80_is_flagged():
    from curate.pipeline.represent import representativeness

    meta = plant(n=600, ages=(40, 80), seed=2)
    res = representativeness(meta, country="BRA", year=2020, reps=1000, seed=0)
    d, counts, pops = oracle(meta, res)
    assert res.overall.distance == pytest.approx(d, abs=1e-12)
    assert res.overall.beyond_sampling and res.overall.distance > 3 * res.overall.expected_hi
    flags = dict(zip(res.strata_labels, res.overall.flags))
    young = [s for s, f in flags.items() if band(s.split(" × ")[0])[1] <= 40]
    assert young and all(flags[s] == "under" for s in young)
    assert any(f == "over" for f in flags.values())
    # ratios: dataset share / population share, interval from Wilson's formula (oracle written out)
    o, z = res.overall, 1.959963984540054
    for k, c in enumerate(counts):
        p, n, q = c / counts.sum(), counts.sum(), pops[k] / pops.sum()
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        assert o.ratios[k] == pytest.approx(p / q)
        assert o.ratio_intervals[k] == pytest.approx(((centre - half) / q, (centre + half) / q), rel=1e-6)


@pytest.mark.parametrize("other, mix, n", [
    ("NGA", 1.0, 1000),  # a population truly unlike the reference: distance 0.258
    ("BRA2000", 0.3, 200),  # a small true distance (0.041) at a small n: the basic interval gave 99.6 %
])
def test_interval_coverage_is_nominal_at_small_and_large_distances(other, mix, n):
    """Coverage of the 95 % interval, 400 simulated datasets of 300 samples per candidate: 93-97 %.
    Oracle: the true distance, scipy on the WPP table."""
    from curate.engine.represent.reference import wpp_population
    from curate.engine.represent.stats import inverted_interval

    q = wpp_population("BRA", 2020).population.to_numpy()
    p = (wpp_population("BRA", 2000) if other == "BRA2000" else wpp_population(other, 2020)).population
    q, p = q / q.sum(), p.to_numpy() / p.sum()
    p = mix * p + (1 - mix) * q
    true = jensenshannon(p, q, base=2)
    rng = np.random.default_rng(2026)
    hits = 0
    for r in range(400):
        lo, hi = inverted_interval(rng.multinomial(n, p), q, reps=300, confidence=0.95, seed=r)
        hits += lo <= true <= hi
    assert 0.93 <= hits / 400 <= 0.97


def test_interval_inverts_the_test_it_names():
    """The interval is exactly the set of candidate truths p(λ) the observed distance does not reject: brute
    force over a fine grid of λ gives the same ends."""
    from curate.engine.represent.stats import _distances, _family, inverted_interval, js_distance

    q = np.array([0.4, 0.3, 0.2, 0.1])
    c = np.array([30, 40, 20, 10])
    d = js_distance(c, q)
    lo, hi = inverted_interval(c, q, reps=4000, confidence=0.9, seed=3)
    assert 0 < lo < d and hi > lo

    def quantiles(lam):
        draws = np.random.default_rng(3).multinomial(100, _family(c, q, lam), size=4000)
        return np.quantile(_distances(draws, q), [0.05, 0.95])

    lams = np.linspace(0, 3, 601)
    accepted = [x for x in lams if quantiles(x)[0] <= d <= quantiles(x)[1]]
    assert lo == pytest.approx(js_distance(_family(c, q, min(accepted)), q), abs=2e-3)
    assert hi == pytest.approx(js_distance(_family(c, q, max(accepted)), q), abs=2e-3)


def test_null_distance_is_what_samples_from_the_reference_show():
    """The 'expected from sampling alone' is the mean distance of samples drawn from the reference."""
    from curate.engine.represent.stats import compare

    q = np.array([0.5, 0.3, 0.2])
    rng = np.random.default_rng(5)
    ds = [jensenshannon(rng.multinomial(200, q), q, base=2) for _ in range(4000)]
    res = compare([("a",), ("b",), ("c",)], [100, 60, 40], q, reps=4000, seed=1)
    assert res.expected == pytest.approx(np.mean(ds), rel=0.05)
    assert res.distance == 0 and res.p_value == 1.0


# ------------------------------------------------------------------------------------------- REACT
@pytest.mark.parametrize("attribute", ["sex", "race", "ethnicity", "race_ethnicity", "age"])
def test_react_jsd_reproduced_on_its_census_example(attribute):
    """REACT's own distances (MIDRC vs US census, its bundled files) to 1e-9, through curate's reader of
    REACT's census format; REACT keeps 'Not reported' in the vector with a census share of 0."""
    from curate.engine.represent.reference import reference_from_table
    from curate.engine.represent.stats import js_distance
    from curate.engine.represent.strata import age_grid, assign_bands, reference_on_grid

    expected = pd.read_csv(DATA / "expected_jsd.csv").set_index("attribute").react_jsd[attribute]
    census = pd.read_csv(DATA / f"census_{attribute}.csv", dtype=str)
    midrc = pd.read_csv(DATA / f"midrc_{attribute}.csv")
    not_reported = midrc.category.str.contains("Not reported", case=False)
    ref = reference_from_table(census, attribute=attribute, name="Census_all").table
    if attribute == "age":  # REACT's custom ranges of jsdconfig-example.yaml: 0-17, 18-49, 50-64, 65+
        from curate.ages import age_intervals

        iv = age_intervals(pd.Series(["0-17", "18-49", "50-64", "65+"]), "ranges")
        edges = age_grid(sorted(set(ref.age_lo) | set(ref.age_hi)), iv.lo.to_numpy(), iv.hi.to_numpy(), top=0)
        pops = reference_on_grid(ref, edges).sort_values("age").population.to_numpy()
        m = midrc[~not_reported]
        lo = age_intervals(m.category, "category").lo.to_numpy()
        counts = np.bincount(assign_bands(lo, edges), weights=m.patients, minlength=len(pops))
    else:
        keys = midrc.category[~not_reported]
        if attribute == "sex":  # the reader codes sex as F/M
            from curate.engine.represent.strata import normalise_sex

            keys = normalise_sex(keys)
        pops = ref.set_index(attribute).population.reindex(keys).to_numpy()
        counts = midrc.patients[~not_reported].to_numpy()
    counts = np.append(counts, midrc.patients[not_reported].sum())
    pops = np.append(pops, 0.0)
    assert js_distance(counts, pops) == pytest.approx(expected, abs=1e-9)


# ------------------------------------------------------------------------------------------- small cells
def test_small_cells_are_merged_or_withheld_and_cannot_be_recovered(tmp_path):
    meta = plant(n=400, seed=3)
    meta.loc[:3, "patient_sex"] = ""  # 4 patients with unknown sex: a small excluded group
    path = tmp_path / "meta.csv"
    meta.to_csv(path, index=False)
    r = invoke("represent", str(path), "--country", "BRA", "--out", str(tmp_path / "out"), "--reps", "200")
    assert r.exit_code == 0, r.stderr
    out = json.loads((tmp_path / "out" / "representativeness.json").read_text())
    assert out["excluded"] == {"sex unknown": "<11"}
    shown = [s["patients"] for s in out["strata"]]
    assert all(v == 0 or v == "*" or (isinstance(v, int) and v >= 11) for v in shown)
    assert "*" in shown and out["patients_total"] == 400  # a complement hides the 4 from 400 - sum(shown)
    published = [v for v in shown if isinstance(v, int)]
    assert out["patients_compared"] == sum(published)
    strata = pd.read_csv(tmp_path / "out" / "strata.csv")
    nums = pd.to_numeric(strata.patients, errors="coerce").dropna()
    assert not ((nums > 0) & (nums < 11)).any()
    for text in (r.stdout, (tmp_path / "out" / "representativeness.md").read_text()):
        assert not re.search(r"\b(?:[1-9]|10) of\b|compared: (?:[1-9]|10)\b", text)
        assert "P0000" not in text  # no patient identifier anywhere
    # the distance is computed on the published strata only
    pub = [s for s in out["strata"] if s["flag"] != "withheld"]
    assert out["distances"][0]["distance"] == pytest.approx(
        jensenshannon([s["patients"] for s in pub], [s["population_share"] for s in pub], base=2))


# ------------------------------------------------------------------------------------------- CLI
def test_cli_writes_report_chart_and_prints_summary(tmp_path):
    meta = plant(n=300, seed=4)
    path = tmp_path / "meta.csv"
    meta.to_csv(path, index=False)
    r = invoke("represent", str(path), "--country", "Brazil", "--year", "2015", "--out", str(tmp_path / "o"),
               "--reps", "200")
    assert r.exit_code == 0, r.stderr
    assert "JS distance" in r.stdout and "sampling alone" in r.stdout
    files = {p.name for p in (tmp_path / "o").iterdir()}
    assert {"representativeness.md", "representativeness.json", "strata.csv", "pyramid.png"} <= files
    assert (tmp_path / "o" / "pyramid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "o" / "representativeness.md").read_text()
    assert "interpolated linearly between the WPP decades 2010 and 2020" in md and "CC BY 3.0 IGO" in md


def test_user_reference_and_react_format(tmp_path):
    from curate.pipeline.represent import representativeness

    meta = plant(n=300, seed=5)
    long = pd.DataFrame({"sex": ["F", "M"], "population": [60, 40]})
    res = representativeness(meta, reference=long)
    c = res.overall
    assert c.distance == pytest.approx(jensenshannon(c.counts, [60, 40], base=2))
    react = pd.read_csv(DATA / "census_sex.csv", dtype=str)
    res2 = representativeness(meta, reference=react, by="sex")
    assert res2.overall.distance == pytest.approx(jensenshannon(c.counts, [50.75, 49.25], base=2))


def test_per_country_comparisons_from_the_nationality_column():
    from curate.pipeline.represent import representativeness

    a, b = plant("BRA", n=300, seed=6), plant("PRT", n=150, seed=7)
    b["patient_id"] = "Q" + b.patient_id
    meta = pd.concat([a.assign(nationality="Brazil"), b.assign(nationality="Portugal")], ignore_index=True)
    res = representativeness(meta, reps=300)
    assert "Brazil (BRA)" in res.reference.name and "Portugal (PRT)" in res.reference.name
    assert set(res.countries) == {"BRA", "PRT"}
    assert res.countries["PRT"].n == 150 and not res.countries["PRT"].beyond_sampling


@pytest.mark.parametrize("args, message", [
    (["--country", "XYZ"], "nearest"),
    (["--country", "BRA", "--year", "1900"], "outside the WPP 2024 reference (1950-2100)"),
    (["--country", "BRA", "--by", "age,race"], "by: race not available"),
    (["--country", "BRA", "--factor", "0.5"], "factor must be"),
])
def test_bad_input_one_error_line(tmp_path, args, message):
    path = tmp_path / "meta.csv"
    plant(n=50).to_csv(path, index=False)
    out = tmp_path / "out"
    r = invoke("represent", str(path), *args, "--out", str(out))
    assert r.exit_code != 0
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and message in r.stderr
    assert "Traceback" not in r.stderr + r.stdout and not out.exists()


def test_fewer_than_11_patients_refused(tmp_path):
    path = tmp_path / "meta.csv"
    plant(n=8).to_csv(path, index=False)
    r = invoke("represent", str(path), "--country", "BRA", "--out", str(tmp_path / "out"))
    assert r.exit_code != 0 and "fewer than 11 patients" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_numeric_sex_codes_refused_then_mapped(tmp_path):
    meta = plant(n=100, seed=8)
    meta["patient_sex"] = meta.patient_sex.map({"Male": "1", "Female": "2"})
    path = tmp_path / "meta.csv"
    meta.to_csv(path, index=False)
    r = invoke("represent", str(path), "--country", "BRA", "--out", str(tmp_path / "a"))
    assert r.exit_code != 0 and "--sex-codes" in r.stderr
    r = invoke("represent", str(path), "--country", "BRA", "--sex-codes", "1=M,2=F",
               "--out", str(tmp_path / "b"), "--reps", "200")
    assert r.exit_code == 0, r.stderr


# ------------------------------------------------------------------------------------------- card and report
def test_card_section_uses_only_counts_the_card_already_publishes(tmp_path):
    """build-card --meta: the Representativeness section's counts are the composition table's own (nothing
    new is published), the chart is written, and the summary goes to Croissant's rai:dataBiases."""
    from curate.cards.build import build_card

    meta = plant(n=150, seed=9)
    res = build_card("BRSET", metadata=meta, out=tmp_path / "card")
    assert (tmp_path / "card" / "representativeness.png").exists()
    md = res.datasheet_md
    section = md[md.index("## Representativeness"):md.index("## Sources")]
    comp = md[md.index("**Age bands"):]
    comp = comp[:comp.index("\n\n", comp.index("|"))]
    published = {(row.split("|")[1].strip(), row.split("|")[3].strip()) for row in comp.splitlines()
                 if row.startswith("| ") and row.split("|")[1].strip()[:1].isdigit()}
    rows = [r.split("|") for r in section.splitlines()
            if r.startswith("| ") and r.split("|")[1].strip()[:1].isdigit()]
    assert rows
    for r in rows:
        band, count = r[1].strip(), r[2].strip()
        assert (band, count) in published or (count == "0" and band not in {b for b, _ in published})
    biases = res.croissant["rai:dataBiases"]
    assert any("Jensen-Shannon distance" in b and "Brazil (BRA)" in b for b in biases)


def test_tripod_5a_is_answered_by_the_measurement(tmp_path):
    """TRIPOD+AI 5a (sources of data ... and representativeness): a record with no care setting leaves it
    unanswered; build-card --meta answers it from the representativeness measurement, in the datasheet's
    coverage table too."""
    import yaml

    from curate.cards.build import build_card

    rec = {"id": "ZZREP", "name": "Generated representativeness record",
           "modality": {"value": ["fundus"], "source": "gen"}, "anatomy": {"value": "eye", "source": "gen"},
           "countries": {"value": ["BRA"], "source": "gen"},
           "demographics_reported": {"value": ["age", "sex"], "source": "gen"},
           "licence": {"value": "CC-BY-4.0", "source": "gen"},
           "references": {"gen": {"title": "Generated for the TRIPOD+AI 5a test", "year": 2026}}}
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "ZZREP.yaml").write_text(yaml.safe_dump(rec), encoding="utf-8")
    bare = build_card("ZZREP", out=tmp_path / "bare", catalog_dir=cat)
    assert not bare.context.standards["tripod_ai"]["5a"].answered
    res = build_card("ZZREP", metadata=plant(n=150, seed=9), out=tmp_path / "card", catalog_dir=cat)
    q = res.context.standards["tripod_ai"]["5a"]
    assert q.answered
    got = [a for a in q.answers if a.reported]
    assert len(got) == 1 and "Jensen-Shannon distance" in got[0].text and "Brazil (BRA)" in got[0].text
    assert got[0].source.startswith("measured by curate represent")
    assert res.context.coverage()["tripod_ai_answered"] == bare.context.coverage()["tripod_ai_answered"] + 1
    assert "5a" in bare.context.coverage()["tripod_ai_unanswered"]
    assert "5a" not in res.context.coverage()["tripod_ai_unanswered"]


def test_card_comparison_takes_the_published_counts_as_numbers():
    """build-card --meta: the composition hands its protected counts over as numbers — the same values its
    rows print, markers where a cell is hidden — and the comparison is computed on those alone: its
    patients are the shown cells' sum, and a hidden cell's true count appears nowhere in the result."""
    from types import SimpleNamespace

    from curate.pipeline.composition import measure_composition
    from curate.pipeline.represent_published import card_representativeness

    meta = plant(n=400, ages=(20, 80), seed=21)
    meta.loc[:4, "patient_age"] = 97  # 5 patients top-coded 90+: a small cell
    comp = measure_composition(meta)
    age = next(t for t in comp.tables if t.title.startswith("Age bands"))
    j = age.columns.index("patients")
    for row in age.rows:  # the numbers handed over are exactly what the table prints
        v = age.counts["patients"][row[0]]
        assert (f"{v:,}" if isinstance(v, int) else v) == row[j]
    hidden = {k for k, v in age.counts["patients"].items() if not isinstance(v, int)}
    # 90+ hidden, and a complement with it: the published total minus the shown cells gives no cell back
    assert "90+" in hidden and len(hidden) >= 2 and int((meta.patient_age >= 90).sum()) == 5
    ds = SimpleNamespace(countries=SimpleNamespace(value=["BRA"]), years_collected=None)
    res = card_representativeness(ds, comp)
    shown = [v for v in age.counts["patients"].values() if isinstance(v, int)]
    assert res.overall.n == sum(shown) < 400
    assert set(hidden) <= set(res.cells.withheld)
    published = {str(r["age"]): r["patients"] for r in res.cells.published.to_dict("records")}
    assert all(published[k] == v for k, v in age.counts["patients"].items() if isinstance(v, int))


def test_images_per_million_against_the_raw_table():
    from curate.engine.represent.reference import per_million

    got = per_million({"BRA": 16_266.0, "PRT": None}, 2020)
    row = raw_wpp("BRA", 2020)
    total = sum(float(row[c]) for c in row.index if re.fullmatch(r"[FM]\d+", c))
    assert got["BRA"] == pytest.approx(16_266 / total * 1e6) and got["PRT"] is None


def test_per_country_counts_cannot_give_back_a_small_country():
    """300 Brazilians and 8 Portuguese: printing Brazil's 300 next to the total would give back the 8."""
    from curate.pipeline.represent import representativeness

    a, b = plant("BRA", n=300, seed=10), plant("PRT", n=8, seed=11)
    b["patient_id"] = "Q" + b.patient_id
    meta = pd.concat([a.assign(nationality="Brazil"), b.assign(nationality="Portugal")], ignore_index=True)
    res = representativeness(meta, reps=200)
    assert res.countries["PRT"] == "withheld (<11 patients)"
    assert isinstance(res.countries["BRA"], str) and "withheld" in res.countries["BRA"]


def test_dicom_age_strings_and_aligned_ranges_give_the_same_answer():
    from curate.pipeline.represent import representativeness

    meta = plant(n=300, seed=12)
    base = representativeness(meta, country="BRA", reps=200).overall
    dicom = meta.assign(patient_age=[f"{int(a):03d}Y" for a in meta.patient_age])
    lo = (meta.patient_age // 5) * 5
    ranges = meta.assign(patient_age=[f"{a}-{a + 4}" if a < 90 else "90+" for a in lo])
    for variant in (dicom, ranges):
        got = representativeness(variant, country="BRA", reps=200).overall
        assert got.distance == pytest.approx(base.distance, abs=1e-12) and got.counts == base.counts
    # a 10-year range coarsens the grid: its two 5-year groups become one band, on both sides
    big = plant(n=3000, seed=13)
    big["patient_age"] = [f"{a}-{a + 4}" if a < 90 else "90+" for a in (big.patient_age // 5) * 5]
    assert "40-44" in representativeness(big, country="BRA", reps=200).cells.age_labels
    big.loc[0, "patient_age"] = "40-49"
    labels = representativeness(big, country="BRA", reps=200).cells.age_labels
    assert "40-44" not in labels and "45-49" not in labels and "40-49" in labels


def test_synthetic_metadata_marks_every_output(tmp_path):
    """A metadata table marked synthetic (curate.synthetic): the report, JSON, strata table, chart and the
    console all say so."""
    from PIL import Image

    meta = plant(n=300, seed=6).assign(synthetic=True)
    path = tmp_path / "meta.csv"
    meta.to_csv(path, index=False)
    r = invoke("represent", str(path), "--country", "BRA", "--out", str(tmp_path / "o"), "--reps", "100")
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "o"
    assert "SYNTHETIC" in r.stdout
    assert json.loads((out / "representativeness.json").read_text())["synthetic"] is True
    assert "synthetic" in (out / "representativeness.md").read_text().lower()
    assert pd.read_csv(out / "strata.csv")["synthetic"].all()
    assert "synthetic" in Image.open(out / "pyramid.png").text.get("Comment", "").lower()
