"""Jensen-Shannon and Benjamini-Hochberg come from scipy and equal the former hand-written
code (kept here as the reference) to 1e-12, through the public API."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from tfx_addons_lab.drift import compare_statistics, fast_statistics_from_dataframe
from tfx_addons_lab.drift.compare import adjust_p_values
from tfx_addons_lab.drift.methods import js_distance


def _old_js_distance(p, q) -> float:
    """The hand-written JS distance (base 2) this package used before scipy."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    p = p / p.sum()
    q = q / q.sum()
    m = 0.5 * (p + q)

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    js = 0.5 * kl(p, m) + 0.5 * kl(q, m)
    return float(math.sqrt(max(js, 0.0)))


def _old_bh(p_values):
    """The hand-written Benjamini-Hochberg step-up adjustment used before scipy."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(1.0, ranked)
    return [float(v) for v in out]


shares = st.lists(st.floats(0.0, 1000.0, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), base=shares)
def test_js_distance_equals_the_former_code(data, base):
    cur = data.draw(st.lists(st.floats(0.0, 1000.0), min_size=len(base), max_size=len(base)))
    _check_js_against_references(base, cur)


@pytest.mark.parametrize(
    "base,cur",
    [
        # Found by CI (scipy 1.18): near-identical shares, divergence ~2e-10. The square root
        # turns a 1e-16 rounding difference in the divergence into ~3e-12 in the distance.
        ([1.0, 0.0], [286.0, 1.192092896e-07]),
        ([3.0, 1.0, 0.0], [3.0, 1.0, 1e-9]),
    ],
)
def test_js_distance_near_identical_shares(base, cur):
    _check_js_against_references(base, cur)


def _check_js_against_references(base, cur):
    if sum(base) <= 0 or sum(cur) <= 0:
        return
    ours = js_distance(np.array(base), np.array(cur))
    old = _old_js_distance(base, cur)
    # Compare the divergence (the distance squared) absolutely: the square root amplifies
    # rounding near zero, |sqrt(a) - sqrt(b)| = |a - b| / (sqrt(a) + sqrt(b)).
    assert ours**2 == pytest.approx(old**2, abs=1e-12)
    # ours computes scipy's rel_entr formula with numpy's log (scipy.special costs 0.14 s to
    # import): numpy 2's log and scipy's may differ in the last bit, so compare divergences
    reference = float(jensenshannon(base, cur, base=2))
    assert ours**2 == pytest.approx(reference**2, abs=1e-14)
    assert 0.0 <= ours <= 1.0 + 1e-12


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60))
def test_bh_equals_the_former_code_and_scipy(p_values):
    ours = adjust_p_values(p_values, "benjamini-hochberg")
    assert ours == pytest.approx(_old_bh(p_values), abs=1e-12)
    assert ours == pytest.approx(list(stats.false_discovery_control(p_values)), abs=1e-15)
    assert adjust_p_values(p_values, None) == [float(v) for v in p_values]
    assert adjust_p_values(p_values, "bonferroni") == pytest.approx(
        [min(1.0, v * len(p_values)) for v in p_values]
    )


def test_public_results_unchanged(synthetic_frames):
    """compare_statistics with JS and with a BH correction: values as computed on raw counts."""
    base, cur = synthetic_frames
    sa, sb = fast_statistics_from_dataframe(base), fast_statistics_from_dataframe(cur)
    report = compare_statistics(sa, sb, {"categorical_method": "jensen_shannon"})
    cats = sorted(set(base["colour"]) | set(cur["colour"]))
    p = base["colour"].value_counts().reindex(cats, fill_value=0).to_numpy()
    q = cur["colour"].value_counts().reindex(cats, fill_value=0).to_numpy()
    assert report.feature("colour").value == pytest.approx(_old_js_distance(p, q), abs=1e-12)
    bh = compare_statistics(
        sa,
        sb,
        {
            "numeric_method": "ks",
            "categorical_method": "chi_square",
            "correction": "benjamini-hochberg",
        },
    )
    tested = [f for f in bh.features if f.p_value is not None]
    expected = _old_bh([f.p_value for f in tested])
    assert [f.p_value_adjusted for f in tested] == pytest.approx(expected, abs=1e-12)
    for f, adj in zip(tested, expected, strict=True):
        assert f.drifted == (adj < f.threshold)


def test_js_on_a_dataframe_column_equals_scipy_on_counts():
    rng = np.random.default_rng(2)
    a = pd.DataFrame({"c": rng.choice(list("abcde"), 2000)})
    b = pd.DataFrame({"c": rng.choice(list("abcdf"), 2000, p=[0.4, 0.3, 0.1, 0.1, 0.1])})
    r = compare_statistics(
        fast_statistics_from_dataframe(a),
        fast_statistics_from_dataframe(b),
        {"categorical_method": "jensen_shannon"},
    )
    cats = list("abcdef")
    p = a["c"].value_counts().reindex(cats, fill_value=0).to_numpy()
    q = b["c"].value_counts().reindex(cats, fill_value=0).to_numpy()
    assert r.feature("c").value == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
