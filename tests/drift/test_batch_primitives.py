"""The segmented primitives of ``drift/batch.py`` against per-feature numpy references."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tfx_addons_lab.drift.batch import RunInterpolator, Segments, search_many, segment_unique

# Few distinct values (ties), signed zeros and infinities; one list of values per feature.
values = st.sampled_from([-np.inf, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf])
features = st.lists(st.lists(values, max_size=12), min_size=1, max_size=8)


def _lexsort_unique(vals: np.ndarray, ids: np.ndarray):
    """The reference: one lexsort by (feature, value), then the first of each run."""
    order = np.lexsort((vals, ids))
    v, i = vals[order], ids[order]
    keep = np.ones(len(v), dtype=bool)
    keep[1:] = (i[1:] != i[:-1]) | (v[1:] != v[:-1])
    return v[keep], i[keep]


@settings(max_examples=200, deadline=None)
@given(features, st.booleans(), st.randoms())
def test_segment_unique_equals_a_lexsort_per_feature(feats, interleave, rnd):
    seg = Segments.of([np.array(f, dtype=float) for f in feats])
    vals, ids = seg.values, seg.ids
    if interleave:  # entries in any order, as distributions_from_features passes them
        perm = list(range(len(vals)))
        rnd.shuffle(perm)
        vals, ids = vals[perm], ids[perm]
        seg = Segments(vals, ids, seg.starts, None)
    got = segment_unique(seg)
    want_v, want_ids = _lexsort_unique(vals, ids)
    assert got.values.tolist() == want_v.tolist()
    assert np.signbit(got.values).tolist() == np.signbit(want_v).tolist()  # same zero kept
    assert got.ids.tolist() == want_ids.tolist()
    assert got.lengths.tolist() == np.bincount(want_ids, minlength=len(feats)).tolist()
    for f, part in zip(feats, got.split(), strict=True):
        assert part.tolist() == np.unique(np.array(f, dtype=float)).tolist()


finite = st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 7.0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(finite, min_size=1, max_size=10), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), finite), max_size=30),
    st.booleans(),
)
def test_search_many_equals_searchsorted_per_feature(knots, queries, in_order):
    knots = [sorted(k) for k in knots]
    n = len(knots)
    queries = [(f % n, q) for f, q in queries]
    if in_order:  # feature after feature: the per-feature loop; else the one-sort path
        queries.sort(key=lambda fq: fq[0])
    qid = np.array([f for f, _ in queries], dtype=np.intp)
    q = np.array([v for _, v in queries], dtype=float)
    seg = Segments.of([np.array(k) for k in knots])
    interp = RunInterpolator(seg, seg.values, np.zeros(n), np.ones(n))
    (pos,) = search_many([interp], [(q, qid)])[0]
    distinct = [np.unique(k) for k in knots]
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in distinct])])
    want = [offsets[f] + np.searchsorted(distinct[f], v, side="right") for f, v in queries]
    assert pos.tolist() == want
