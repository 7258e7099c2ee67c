"""Segmented array primitives for the batch drift kernels (numpy only, no scipy, no TFX).

A *batch* holds one variable-length vector per feature, stored flat: ``values`` (all features'
entries, feature after feature) and ``starts`` (index of each feature's first entry; a
feature's entries run to the next start). The helpers here compute per-feature results for
the whole batch with a constant number of numpy calls, giving the same numbers as the
per-feature code in :mod:`tfx_addons_lab.drift.distributions` and
:mod:`tfx_addons_lab.drift.methods` (elementwise operations are the same; sums are
``np.add.reduceat`` over each feature's slice).
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np


class Segments:
    """Flat storage of one variable-length float vector per feature.

    Attributes:
      values: all entries, feature after feature.
      ids: the feature index of each entry.
      starts: index in ``values`` of each feature's first entry.
      lengths: number of entries of each feature.
    """

    __slots__ = ("values", "ids", "starts", "lengths")

    def __init__(self, values: np.ndarray, ids: np.ndarray, starts: np.ndarray, lengths):
        self.values = values
        self.ids = ids
        self.starts = starts
        self.lengths = lengths

    @classmethod
    def of(cls, arrays: Sequence[np.ndarray]) -> Segments:
        """Stack ``arrays`` (one per feature) into one :class:`Segments`."""
        lengths = np.fromiter((len(a) for a in arrays), dtype=np.intp, count=len(arrays))
        starts = np.zeros(len(arrays), dtype=np.intp)
        if len(arrays) > 1:
            np.cumsum(lengths[:-1], out=starts[1:])
        values = (
            np.concatenate([np.asarray(a, dtype=float) for a in arrays])
            if len(arrays)
            else np.zeros(0)
        )
        ids = np.repeat(np.arange(len(arrays), dtype=np.intp), lengths)
        return cls(values, ids, starts, lengths)

    def split(self) -> List[np.ndarray]:
        """The per-feature vectors again (views of ``values``)."""
        return split_by_lengths(self.values, self.lengths)


def split_by_lengths(values: np.ndarray, lengths) -> List[np.ndarray]:
    """``values`` cut into consecutive views of ``lengths`` entries: ``np.split``'s result,
    by plain slicing (``np.split`` costs a few microseconds per piece)."""
    out, start = [], 0
    for length in np.asarray(lengths, dtype=np.intp).tolist():
        out.append(values[start : start + length])
        start += length
    return out


def segment_sum(values: np.ndarray, seg: Segments) -> np.ndarray:
    """Sum of ``values`` (aligned with ``seg``) over each feature; 0 for an empty feature."""
    return _reduce(np.add, values, seg, 0.0)


def segment_max(values: np.ndarray, seg: Segments, empty: float = 0.0) -> np.ndarray:
    """Max of ``values`` over each feature; ``empty`` for an empty feature."""
    return _reduce(np.maximum, values, seg, empty)


def segment_min(values: np.ndarray, seg: Segments, empty: float = np.inf) -> np.ndarray:
    """Min of ``values`` over each feature; ``empty`` for an empty feature."""
    return _reduce(np.minimum, values, seg, empty)


def _reduce(ufunc, values: np.ndarray, seg: Segments, empty: float) -> np.ndarray:
    n = len(seg.starts)
    if n == 0:
        return np.zeros(0)
    out = np.full(n, empty, dtype=float)
    nonempty = seg.lengths > 0
    if len(values) and nonempty.any():
        out[nonempty] = ufunc.reduceat(values, seg.starts[nonempty])
    return out


def segment_unique(seg: Segments) -> Segments:
    """Sorted distinct values of each feature (``np.unique`` per feature).

    Entries not stored feature after feature (``ids`` not non-decreasing) are first
    grouped by feature (a stable sort of the ids: linear when they come in a few sorted
    runs). Then each feature's slice is sorted in place: a loop over features, no sort of
    the whole batch. Both sorts are stable, as ``np.lexsort`` by feature and value is, so
    equal values (``-0.0`` and ``0.0``) keep their order. Then repeats are dropped for all
    features at once.
    """
    ids, v = seg.ids, seg.values.copy()
    n = len(seg.starts)
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, v = ids[order], v[order]
    lengths = np.bincount(ids, minlength=n) if len(ids) else np.zeros(n, dtype=np.intp)
    start = 0
    for length in lengths.tolist():
        if length > 1:
            v[start : start + length].sort(kind="stable")
        start += length
    keep = np.ones(len(v), dtype=bool)
    if len(v) > 1:
        keep[1:] = (ids[1:] != ids[:-1]) | (v[1:] != v[:-1])
    v, ids = v[keep], ids[keep]
    lengths = np.bincount(ids, minlength=len(seg.starts)).astype(np.intp)
    starts = np.zeros(len(lengths), dtype=np.intp)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    return Segments(v, ids, starts, lengths)


class RunInterpolator:
    """:func:`~tfx_addons_lab.drift.distributions._interp_runs` for many features at once.

    ``knots``/``values`` hold one non-decreasing knot vector (repeats allowed: a jump) and
    its values per feature; ``below``/``above`` are the per-feature values outside the knots.
    Every feature must have at least one knot.
    """

    def __init__(self, knots: Segments, values: np.ndarray, below, above):
        k, ids = knots.values, knots.ids
        new = np.ones(len(k), dtype=bool)
        if len(k) > 1:
            new[1:] = (ids[1:] != ids[:-1]) | (k[1:] != k[:-1])
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, len(k) - 1)
        self.ux = k[first]
        self.uid = ids[first]
        self.v_first = values[first]
        self.v_last = values[last]
        self.n_unique = np.bincount(self.uid, minlength=len(knots.starts)).astype(np.intp)
        self.u_start = np.zeros(len(self.n_unique), dtype=np.intp)
        if len(self.n_unique) > 1:
            np.cumsum(self.n_unique[:-1], out=self.u_start[1:])
        self.below = np.asarray(below, dtype=float)
        self.above = np.asarray(above, dtype=float)

    def __call__(self, q: np.ndarray, qid: np.ndarray, use_first, pos=None) -> np.ndarray:
        """Interpolate at ``q`` (feature ``qid`` each); ``use_first``: ``side="left"``.

        ``pos``: this interpolator's row of :func:`search_many` for these queries, when the
        caller computed it (it saves a sort); else it is computed here.
        """
        q = np.asarray(q, dtype=float)
        if pos is None:
            pos = search_many([self], [(q, qid)])[0][0]
        start = self.u_start[qid]
        n_u = self.n_unique[qid]
        j = pos - start - 1  # ux[j] <= q < ux[j + 1] within the feature
        jc = np.clip(j, 0, n_u - 1) + start
        jn = np.clip(j + 1, 0, n_u - 1) + start
        ux = self.ux
        at_knot = (j >= 0) & (ux[jc] == q)
        width = ux[jn] - ux[jc]
        t = np.where(width > 0, (q - ux[jc]) / np.where(width > 0, width, 1.0), 0.0)
        between = self.v_last[jc] + t * (self.v_first[jn] - self.v_last[jc])
        at = np.where(use_first, self.v_first[jc], self.v_last[jc])
        out = np.where(at_knot, at, between)
        out = np.where(j < 0, self.below[qid], out)
        out = np.where((j >= n_u - 1) & ~at_knot, self.above[qid], out)
        return out


def search_many(interps: Sequence[RunInterpolator], queries) -> List[List[np.ndarray]]:
    """Per-feature ``searchsorted(knots, q, "right")`` of every query set in every interpolator.

    ``queries`` is a list of ``(q, qid)``. Returns ``pos[i][k]``: for query set ``k`` in
    ``interps[i]``, the number of that interpolator's distinct knots (all features) up to
    and including the query's feature's knots ``<= q``.

    When every query set lists its features in order (``qid`` non-decreasing, as all the
    batch kernels' do), each feature's queries are one ``searchsorted`` in its own knots:
    a loop over features, linear in their number, no sort. Otherwise all values are ranked
    together in one sort (equal values share a rank); the integer keys ``(feature, rank)``
    are strictly increasing over each interpolator's knots, so one ``np.searchsorted``
    answers a set.
    """
    if all(len(qid) < 2 or bool(np.all(qid[1:] >= qid[:-1])) for _, qid in queries):
        return [[_search_by_feature(it, q, qid) for q, qid in queries] for it in interps]
    parts = [it.ux for it in interps] + [np.asarray(q, dtype=float) for q, _ in queries]
    allv = np.concatenate(parts)
    if len(allv) == 0:
        return [[np.zeros(0, dtype=np.intp) for _ in queries] for _ in interps]
    _, rank = np.unique(allv, return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64)
    width = int(rank.max()) + 1
    bounds = np.cumsum([0] + [len(p) for p in parts])
    ids = [it.uid for it in interps] + [qid for _, qid in queries]
    keys = [
        np.asarray(ids[i], dtype=np.int64) * width + rank[bounds[i] : bounds[i + 1]]
        for i in range(len(parts))
    ]
    n = len(interps)
    return [
        [np.searchsorted(keys[i], keys[n + k], side="right") for k in range(len(queries))]
        for i in range(n)
    ]


def _search_by_feature(interp: RunInterpolator, q, qid) -> np.ndarray:
    """:func:`search_many` of one query set whose ``qid`` is non-decreasing."""
    q = np.asarray(q, dtype=float)
    qid = np.asarray(qid, dtype=np.intp)
    out = np.empty(len(q), dtype=np.intp)
    if len(q) == 0:
        return out
    n = len(interp.n_unique)
    bounds = np.searchsorted(qid, np.arange(n + 1), side="left")
    present = np.flatnonzero(bounds[1:] > bounds[:-1]).tolist()
    bounds = bounds.tolist()
    starts, counts = interp.u_start.tolist(), interp.n_unique.tolist()
    ux = interp.ux
    for f in present:
        lo, hi, s = bounds[f], bounds[f + 1], starts[f]
        out[lo:hi] = ux[s : s + counts[f]].searchsorted(q[lo:hi], side="right") + s
    return out


def cdf_interpolator(dists) -> RunInterpolator:
    """The CDFs of non-empty numeric distributions (``Distribution.cdf``) as one batch."""
    knots = Segments.of([d.cdf_x for d in dists])
    values = np.concatenate([np.asarray(d.cdf_p, dtype=float) for d in dists])
    n = len(dists)
    return RunInterpolator(knots, values, np.zeros(n), np.ones(n))


def quantile_interpolator(dists) -> RunInterpolator:
    """The quantile functions of non-empty numeric distributions (``Distribution.quantile``)."""
    knots = Segments.of([d.cdf_p for d in dists])
    values = np.concatenate([np.asarray(d.cdf_x, dtype=float) for d in dists])
    below = np.array([float(d.cdf_x[0]) for d in dists])
    above = np.array([float(d.cdf_x[-1]) for d in dists])
    return RunInterpolator(knots, values, below, above)
