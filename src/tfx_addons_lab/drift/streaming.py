"""TFDV statistics of a CSV file in one streaming pass, in memory bounded by a constant.

:func:`streaming_statistics_from_csv` reads the file in record batches
(``pyarrow.csv.open_csv``) and keeps, per column, a small summary that does not grow with the
number of rows. It returns the same ``DatasetFeatureStatisticsList`` as
:func:`~tfx_addons_lab.drift.fast_stats.fast_statistics_from_dataframe` of the whole table
(so :func:`~tfx_addons_lab.drift.compare_statistics` is unchanged), with these guarantees:

* Exact, always: ``num_examples``, ``num_missing``/``num_non_missing``, type, ``min``,
  ``max``, ``mean``, ``std_dev`` (merged per batch; float rounding aside), ``num_zeros``,
  ``avg_length``.
* Numeric columns with at most :data:`EXACT_VALUES` non-missing values: every field is exactly
  what the in-memory engine computes (the values are kept and sorted). The kept values of all
  columns share a budget of :data:`KEPT_VALUES` (4M floats, 32 MiB): a column keeps
  ``min(EXACT_VALUES, max(KEPT_VALUES // numeric columns, MIN_KEPT))``, so a file with up to
  64 numeric columns keeps the full ``EXACT_VALUES`` and a wide one (500 numeric columns:
  8,388 each) moves on earlier.
* Larger numeric columns with at most :data:`DISTINCT_VALUES` distinct values (hours,
  distances, delays in minutes, readings with one or two decimals): counted value by value,
  and the histograms and median computed from the counts with the in-memory engine's rules:
  still exactly its proto, at any number of rows.
* Other numeric columns: the finite values go to a mergeable quantile sketch (tfx_bsl's
  ``QuantilesSketch``, the one TFDV uses, rank error <= :data:`SKETCH_EPS`; measured 2e-5
  at 3M rows). ``median`` and both histograms come from :data:`SKETCH_POINTS` + 1 quantiles
  of it, each standing for an equal share of the values (ties keep their mass: equal
  quantiles make equal bucket boundaries). So the ``QUANTILES`` CDF is off by at most
  ``SKETCH_EPS + 1/SKETCH_POINTS`` (1.5e-3) from the exact one, well inside the 0.02
  ``ks``/``wasserstein`` contract; ``STANDARD`` bucket counts are estimates of the same
  accuracy. Each such feature carries the custom statistic ``tfx_addons_lab.approximate``
  saying so, and :attr:`StreamStatistics.sketched` lists it. On a file whose columns got less
  than ``EXACT_VALUES`` from the budget (wide files), this sketch is instead a compactor
  (Manku-Rajagopalan-Lindsay: levels of at most ``share / COMPACT_SHARE`` sorted values, every
  other one promoted with twice the weight), read through the counted columns' rules: tfx_bsl's
  sketch holds about 3 MiB per column. Its CDF error is at most about
  ``2 * log2(rows / k) / k`` for levels of ``k`` values (measured: 9e-4 at k = 2,097, 1.9e-3 at
  the least, :data:`MIN_COMPACT`, on 50k-400k rows), flagged the same way.
* Categorical columns: counts are exact while a column has at most :data:`CATEGORY_LIMIT`
  distinct values. Beyond that the counts continue in a Misra-Gries sketch of
  ``CATEGORY_LIMIT`` counters (each count off by at most ``N /
  (CATEGORY_LIMIT + 1)``) and ``unique`` is a KMV estimate: the feature carries
  ``tfx_addons_lab.approximate`` and :attr:`StreamStatistics.approximations` names it, which
  the CLI prints and writes into the report's warnings. It is never silent.

Memory: a block of :data:`BLOCK_SIZE` to :data:`MAX_BLOCK` bytes of CSV text being parsed
and its Arrow batch (the reader runs without threads, so without read-ahead: the two files
of the CLI are read in parallel already, and a reader converting to given types parses far
enough ahead to grow the peak by 20-40 MiB per file on the wide table), the batches
gathered up to :data:`BATCH_ROWS` rows, plus the kept values of all numeric columns (at most
:data:`KEPT_VALUES` floats, 32 MiB, once a column has its share it moves on), plus per column
one of: ``DISTINCT_VALUES`` values and counts (64 KiB) or a dense array of at most
:data:`DENSE_SPAN` counts (512 KiB); the quantile sketch
(tfx_bsl's buffers at ``SKETCH_EPS``: about 5 MiB at 10M values, growing with the logarithm of
the row count) or, on wide files, the compactor (``share / COMPACT_SHARE`` values per level,
one level per doubling of the rows); or ``CATEGORY_LIMIT`` labels and counts. Nothing holds
rows. ``benchmarks/drift_vs_evidently.py`` measures the peak of the CLI at 0.3M to 10M rows and
on the 50k x 550 wide table.

Types follow pyarrow's inference on the first block (as :func:`fast_stats.read_csv_table`),
read once for them; the pass then converts every block to those types (a third less CPU than
pyarrow's inferring reader). When a later block does not fit a column's type (an integer
column holding ``1.5`` or ``abc``) the pass restarts with that column widened (int -> float
-> text, as pandas reads it). Module-level imports are numpy and our own modules: pyarrow is
imported on use, tfx_bsl only when a column outgrows the exact limits, and never pandas or
TensorFlow.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from tfx_addons_lab.drift.fast_stats import (
    INT,
    STRING,
    TOP_VALUES,
    _add_histogram,
    _fill_common,
    _numeric_feature,
    _one_line,
    check_unique_columns,
    fill_string_counts,
    float64_buffer,
    float64_values,
    quantile_buckets_of,
    standard_buckets_of,
)
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.textfmt import safe

#: Bytes of CSV text parsed per record batch (at least; see :data:`BATCH_ROWS`).
BLOCK_SIZE = 1 << 20
#: Rows a record batch should hold: wide files get larger blocks (up to :data:`MAX_BLOCK`), and
#: consecutive batches are gathered up to this many rows before the per-column work, so that
#: work is not repeated for a few hundred rows at a time.
BATCH_ROWS = 8192
#: Largest block (about 630 rows of the 50k x 550 wide table). Measured there (2026-11-27):
#: 1 MiB blocks lower the CLI's peak by 40-60 MiB but cost time (twice the batches to hand
#: over between the two files' passes); 4 and 8 MiB blocks are no faster and hold more.
MAX_BLOCK = 1 << 21
#: Non-missing values of a numeric column kept exactly before the column switches to a sketch.
EXACT_VALUES = 1 << 16
#: Numeric values kept exactly across all the columns of a file (32 MiB of float64): each
#: numeric column keeps ``min(EXACT_VALUES, KEPT_VALUES // numeric columns)`` values, so a wide
#: file (550 columns) switches its columns to counting or the sketch earlier instead of holding
#: every value; a tall one (up to 64 numeric columns) keeps the full ``EXACT_VALUES``.
KEPT_VALUES = 1 << 22
#: A column of a wide file past its share of :data:`KEPT_VALUES` (and with more than
#: :data:`DISTINCT_VALUES` distinct values) continues in a compactor whose levels hold
#: ``share / COMPACT_SHARE`` values each (about log2(rows / that) levels): tfx_bsl's sketch
#: takes about 3 MiB per column, 1.5 GiB on 500 columns.
COMPACT_SHARE = 4
#: Least values a compactor level holds (its rank error is at most about
#: ``2 * log2(rows / MIN_COMPACT) / MIN_COMPACT``, 1e-2, and in practice ten times less).
MIN_COMPACT = 1 << 10
#: Least values a column keeps exactly however wide the file (files of more than 4,096
#: numeric columns keep this many per column, over the budget).
MIN_KEPT = 1 << 10
#: Distinct values of a numeric column counted exactly once it outgrows EXACT_VALUES.
DISTINCT_VALUES = 4096
#: Span of a counted column's values, in units of its last decimal, counted in a dense array
#: (``np.bincount``, 30x faster than looking values up); wider spans use sorted look-ups.
DENSE_SPAN = 1 << 16
#: Rank error bound of the quantile sketch.
SKETCH_EPS = 1e-3
#: Quantiles read from the sketch to build the histograms.
SKETCH_POINTS = 2_000
#: Distinct values of a categorical column counted exactly.
CATEGORY_LIMIT = 10_000
#: Name of the custom statistic marking a feature whose histogram or counts are estimates.
APPROXIMATE = "tfx_addons_lab.approximate"
#: Seconds between progress lines.
PROGRESS_EVERY = 5.0
#: Held while a pass feeds gathered batches to its column accumulators (and while it fills
#: the protos at the end). Two passes in one process (the CLI reads BASELINE and CURRENT at
#: once, in two threads) take turns: one feeds its columns (numpy calls, mostly under the
#: GIL) while the other parses its next blocks (pyarrow, without the GIL), instead of handing
#: the GIL back and forth at every numpy call.
_FEED_LOCK = threading.Lock()


@dataclass
class StreamStatistics:
    """What :func:`streaming_statistics_from_csv` returns.

    Attributes:
      statistics: the ``DatasetFeatureStatisticsList`` (one dataset).
      rows: rows read.
      columns: columns read.
      approximations: one sentence per feature whose categorical counts did not fit
        :data:`CATEGORY_LIMIT` (estimates, to be shown to the user).
      sketched: numeric features whose histograms come from the quantile sketch (accurate to
        the documented bound; informational).
    """

    statistics: object
    rows: int
    columns: int
    approximations: List[str] = field(default_factory=list)
    sketched: List[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ numeric
class _Numeric:
    """Exact moments plus kept values (small columns) or a quantile sketch (large ones)."""

    def __init__(
        self,
        exact_values: int = EXACT_VALUES,
        distinct_values: int = DISTINCT_VALUES,
        compact_k: int = 0,
    ):
        self.exact_values = exact_values
        # Wide files: a compactor of buffers of compact_k values instead of the tfx_bsl sketch.
        self.compact_k = compact_k
        self.levels: Optional[List[np.ndarray]] = None  # levels[h]: values of weight 2**h
        self.parity: List[int] = []
        self.distinct_values = distinct_values
        self.nulls = 0
        self.kept: List[np.ndarray] = []
        self.n_kept = 0
        self.uniques: Optional[np.ndarray] = None  # sorted distinct values (counting mode)
        self.counts: Optional[np.ndarray] = None
        # Dense counting: values are (base + i) / scale, dense[i] their counts.
        self.dense: Optional[np.ndarray] = None
        self.base = 0
        self.scale = 1.0
        self.sketch = None
        # Running statistics, used once the column is sketched.
        self.n = 0
        self.n_finite = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.zeros = 0
        self.pos_inf = 0
        self.neg_inf = 0

    def add(self, values: np.ndarray, nulls: int) -> None:
        """Add a batch of the column: ``values`` as float64 (NaN where missing; possibly a
        read-only view of an Arrow buffer, never written to nor kept) and its null count."""
        self.nulls += nulls
        missing = np.isnan(values)
        v = values[~missing] if missing.any() else values
        if (
            self.uniques is None
            and self.sketch is None
            and self.dense is None
            and self.levels is None
        ):
            self.kept.append(np.array(v))  # a copy: v may be a view of the batch
            self.n_kept += len(v)
            if self.n_kept > self.exact_values:
                kept = np.concatenate(self.kept)
                self.kept, self.n_kept = [], 0
                if self._start_dense(kept):
                    self._moments(kept)
                    return
                # One sort serves the distinct values (np.unique's rule) and the compactor.
                kept.sort()
                starts = _run_starts(kept)
                if len(starts) <= self.distinct_values:
                    self.uniques = kept[starts]
                    self.counts = np.diff(np.append(starts, len(kept))).astype(np.int64)
                    self._try_dense()
                elif self.compact_k:
                    self.levels = [np.zeros(0)]
                    self._compact_add(kept, presorted=True)
                else:
                    self._start_sketch()
                    self._sketch_add(kept)
                self._moments(kept)
            return
        self._moments(v)
        if self.levels is not None:
            self._compact_add(v)
        elif self.dense is not None:
            self._count_dense(v)
        elif self.uniques is not None:
            self._count(v)
        else:
            self._sketch_add(v)

    def _compact_add(self, v: np.ndarray, presorted: bool = False) -> None:
        """Add finite values to the compactor (Manku-Rajagopalan-Lindsay): a level holding
        more than ``compact_k`` values is sorted and every other one (alternating the offset)
        moves up a level with twice the weight; an odd one out stays. Weights sum to the count
        exactly, and each compaction at level h moves a rank by at most ``2**h``.
        ``presorted``: ``v`` is sorted already (level 0 is not sorted again when empty)."""
        finite = np.isfinite(v)
        if not finite.all():
            v = v[finite]
        if len(v) == 0:
            return
        levels = self.levels
        presorted = presorted and len(levels[0]) == 0
        levels[0] = np.concatenate([levels[0], v])  # a new array: sorted in place below
        h = 0
        while h < len(levels):
            buf = levels[h]
            if len(buf) <= self.compact_k:
                h += 1
                continue
            if h == 0:
                if not presorted:
                    buf.sort()
            else:
                # Above level 0 a buffer is a few sorted runs: timsort merges them in O(n).
                buf = np.sort(buf, kind="stable")
            if len(buf) % 2:
                keep, buf = buf[-1:], buf[:-1]
            else:
                keep = buf[:0]
            if h == len(levels) - 1:
                levels.append(np.zeros(0))
            while len(self.parity) <= h:
                self.parity.append(0)
            up = buf[self.parity[h] :: 2]
            self.parity[h] ^= 1
            levels[h] = keep.copy()
            levels[h + 1] = np.concatenate([levels[h + 1], up])
            h += 1

    def _compacted(self) -> _Weighted:
        values = np.concatenate(self.levels)
        weights = np.concatenate(
            [np.full(len(b), 1 << h, dtype=np.int64) for h, b in enumerate(self.levels)]
        )
        # The levels are sorted runs (but the last values of level 0): timsort merges them.
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
        starts = _run_starts(values)
        return _Weighted(values[starts], np.add.reduceat(weights, starts))

    def _start_dense(self, v: np.ndarray) -> bool:
        """Count the kept values ``v`` in a dense array, without sorting them, when they are
        on a grid (:func:`_grid`) and at most ``distinct_values`` of them differ. True if it
        did."""
        if len(v) == 0 or not (math.isfinite(v.min()) and math.isfinite(v.max())):
            return False
        grid = _grid(v)
        if grid is None:
            return False
        scale, k = grid
        base = int(k.min())
        dense = np.bincount((k - base).astype(np.int64))
        if np.count_nonzero(dense) > self.distinct_values:
            return False
        self.dense, self.base, self.scale = dense.astype(np.int64, copy=False), base, scale
        return True

    def _try_dense(self) -> None:
        """Switch the value-by-value counts to a dense array when the values are on a grid
        (:func:`_grid`)."""
        u = self.uniques
        if len(u) == 0 or not np.isfinite(u).all():
            return
        grid = _grid(u)
        if grid is None:
            return
        self.scale, k = grid
        self.base = int(k[0])
        self.dense = np.zeros(int(k[-1]) - self.base + 1, dtype=np.int64)
        self.dense[(k - self.base).astype(np.int64)] = self.counts
        self.uniques = self.counts = None

    def _undense(self) -> None:
        nz = np.flatnonzero(self.dense)
        self.uniques = (nz + self.base) / self.scale
        self.counts = self.dense[nz]
        self.dense = None

    def _count_dense(self, v: np.ndarray) -> None:
        if len(v) == 0:
            return
        k = np.rint(v * self.scale)
        if not (np.isfinite(k).all() and (k / self.scale == v).all()):
            self._undense()  # a value off the grid (more decimals, or infinite)
            self._count(v)
            return
        lo, hi = k.min(), k.max()
        top = self.base + len(self.dense)
        if lo < self.base or hi >= top:
            new_base, new_top = min(self.base, int(lo)), max(top, int(hi) + 1)
            if new_top - new_base > DENSE_SPAN:
                self._undense()
                self._count(v)
                return
            dense = np.zeros(new_top - new_base, dtype=np.int64)
            dense[self.base - new_base : self.base - new_base + len(self.dense)] = self.dense
            self.dense, self.base = dense, new_base
        self.dense += np.bincount((k - self.base).astype(np.int64), minlength=len(self.dense))

    def _start_sketch(self, weighted: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> None:
        from tfx_bsl import sketches

        self.sketch = sketches.QuantilesSketch(SKETCH_EPS, 1 << 32, 1)
        if weighted is not None:
            self._sketch_add(*weighted)

    def _sketch_add(self, v: np.ndarray, weights: Optional[np.ndarray] = None) -> None:
        import pyarrow as pa

        v = np.ascontiguousarray(v[np.isfinite(v)] if weights is None else v, dtype=np.float64)
        if len(v) == 0:
            return
        # pa.Array.from_buffers: pa.array(ndarray) would import pandas.
        arr = pa.Array.from_buffers(pa.float64(), len(v), [None, pa.py_buffer(v)])
        if weights is None:
            self.sketch.AddValues(arr)
        else:
            w = np.ascontiguousarray(weights, dtype=np.float64)
            self.sketch.AddValues(
                arr, pa.Array.from_buffers(pa.float64(), len(w), [None, pa.py_buffer(w)])
            )

    def _count(self, v: np.ndarray) -> None:
        """Exact counts of a column with few distinct values (O(n log k), no sort of v)."""
        u = self.uniques
        idx = np.searchsorted(u, v)
        found = idx < len(u)
        found[found] = u[idx[found]] == v[found]
        if not found.all():
            u = np.union1d(u, v[~found])
            counts = np.zeros(len(u), dtype=np.int64)
            counts[np.searchsorted(u, self.uniques)] = self.counts
            self.uniques, self.counts = u, counts
            if len(u) > self.distinct_values:
                finite = np.isfinite(u)
                self.uniques = self.counts = None
                if self.compact_k:
                    self.levels = [np.zeros(0)]
                    self._compact_add(np.repeat(u[finite], counts[finite]), presorted=True)
                    self._compact_add(v)
                    return
                self._start_sketch((u[finite], counts[finite]))
                self._sketch_add(v)
                return
            idx = np.searchsorted(u, v)
        self.counts += np.bincount(idx, minlength=len(u))

    def _moments(self, v: np.ndarray) -> None:
        if len(v) == 0:
            return
        self.n += len(v)
        lo, hi = float(v.min()), float(v.max())
        self.lo = min(self.lo, lo)
        self.hi = max(self.hi, hi)
        self.zeros += int(np.count_nonzero(v == 0.0))
        if lo == -math.inf or hi == math.inf:  # v holds no NaN: else every value is finite
            finite = np.isfinite(v)
            self.pos_inf += int(np.count_nonzero(v == math.inf))
            self.neg_inf += int(np.count_nonzero(v == -math.inf))
            v = v[finite]
        if len(v) == 0:
            return
        # Chan et al.'s merge of (count, mean, M2).
        nb = len(v)
        mb = float(np.mean(v))
        d = v - mb
        # Not np.dot: OpenBLAS threads its dot product, and its threads spin (CPU time).
        m2b = float(np.add.reduce(np.square(d, out=d)))
        n = self.n_finite + nb
        delta = mb - self.mean
        self.mean += delta * nb / n
        self.m2 += m2b + delta * delta * self.n_finite * nb / n
        self.n_finite = n

    def fill(self, feature, n_rows: int, quantile_buckets: int) -> bool:
        """Write the feature's ``num_stats``; True when its histograms are sketch estimates."""
        from tensorflow_metadata.proto.v0 import statistics_pb2

        if self.dense is not None:
            self._undense()
        if self.uniques is None and self.sketch is None and self.levels is None:
            values = np.concatenate(self.kept) if self.kept else np.zeros(0)
            _numeric_feature(
                feature, values.astype(np.float64, copy=False), n_rows, quantile_buckets
            )
            return False
        ns = feature.num_stats
        _fill_common(ns.common_stats, n_rows, self.n)
        if self.pos_inf and self.neg_inf:
            mean = math.nan
        elif self.pos_inf or self.neg_inf:
            mean = math.inf if self.pos_inf else -math.inf
        else:
            mean = self.mean
        ns.mean = mean
        ns.std_dev = math.sqrt(self.m2 / self.n_finite) if math.isfinite(mean) else math.nan
        ns.min = self.lo
        ns.max = self.hi
        ns.num_zeros = self.zeros
        if self.n_finite == 0:
            ns.median = self.lo if self.neg_inf >= self.pos_inf else self.hi
            return False
        if self.uniques is not None or self.levels is not None:
            if self.levels is not None:
                view = self._compacted()
            else:
                finite = np.isfinite(self.uniques)
                view = _Weighted(self.uniques[finite], self.counts[finite])
            ns.median = float(view.value_at(max(int(math.ceil(0.5 * view.n)) - 1, 0)))
            _add_histogram(ns, statistics_pb2.Histogram.STANDARD, *view.standard_buckets())
            _add_histogram(
                ns, statistics_pb2.Histogram.QUANTILES, *view.quantile_buckets(quantile_buckets)
            )
            return self.levels is not None
        q = self.sketch.GetQuantiles(SKETCH_POINTS).values  # flatten() imports pandas
        points = float64_buffer(q)
        points = np.sort(points)  # the sketch returns them sorted; be sure
        scale = self.n_finite / len(points)
        ns.median = float(points[max(int(math.ceil(0.5 * len(points))) - 1, 0)])
        lows, highs, counts = standard_buckets_of(points)
        _add_histogram(ns, statistics_pb2.Histogram.STANDARD, lows, highs, counts * scale)
        lows, highs, counts = quantile_buckets_of(points, quantile_buckets)
        _add_histogram(ns, statistics_pb2.Histogram.QUANTILES, lows, highs, counts * scale)
        return True


def _grid(v: np.ndarray) -> Optional[Tuple[float, np.ndarray]]:
    """The dense-counting rule: the first scale of 1, 10, 100 that makes every value of ``v``
    (finite) a whole number ``k`` (``k / scale == v`` exactly: whole numbers, readings with one
    or two decimals) over a span of less than :data:`DENSE_SPAN`, and ``k``; None if none does.
    The first 64 values are tried first, so a column off a grid costs little."""
    head = v[:64]
    for scale in (1.0, 10.0, 100.0):
        if not (np.rint(head * scale) / scale == head).all():
            continue
        k = np.rint(v * scale)
        if (k / scale == v).all() and k.max() - k.min() < DENSE_SPAN:
            return scale, k
    return None


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Indices where a new value starts in a sorted array of non-NaN values (the distinct
    values are ``sorted_values[starts]``, their counts the gaps between the starts)."""
    first = np.ones(len(sorted_values), dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return np.flatnonzero(first)


class _Weighted:
    """Sorted distinct values with counts, read as the sorted sample they stand for.

    The exact engine's histogram rules (:func:`fast_stats.quantile_buckets_of` and
    :func:`fast_stats.standard_buckets_of`) rewritten on ranks, so a column counted value by
    value gets the very histograms the in-memory engine computes from all its rows.
    """

    def __init__(self, values: np.ndarray, counts: np.ndarray) -> None:
        self.u = values
        self.cum = np.concatenate([[0], np.cumsum(counts)])
        self.n = int(self.cum[-1])

    def value_at(self, ranks):
        """The value at 0-based rank(s) of the sorted sample (``s[ranks]``)."""
        return self.u[np.searchsorted(self.cum[1:], ranks, "right")]

    def rank(self, x, side: str):
        """``np.searchsorted(s, x, side)`` on the sorted sample."""
        return self.cum[np.searchsorted(self.u, x, side)]

    def quantile_buckets(self, buckets: int):
        n = self.n
        k = np.arange(buckets + 1)
        idx = np.clip(np.ceil(k * n / buckets).astype(np.int64) - 1, 0, n - 1)
        bounds = self.value_at(idx)
        lo, hi = bounds[:-1], bounds[1:]
        left_hi = self.rank(hi, "left")
        right_hi = self.rank(hi, "right")
        right_lo = self.rank(lo, "right")
        inside = np.where(hi > lo, np.maximum(left_hi - right_lo, 0), 0).astype(np.float64)
        at_hi = (right_hi - left_hi).astype(np.float64)
        _, inverse, mult = np.unique(hi, return_inverse=True, return_counts=True)
        counts = inside + at_hi / mult[inverse]
        if hi[0] > lo[0]:
            counts[0] += float(self.rank(lo[0], "right"))
        return lo, hi, counts

    def standard_buckets(self, buckets: int = 10):
        lo_v, hi_v = float(self.u[0]), float(self.u[-1])
        if hi_v <= lo_v:
            return np.array([lo_v]), np.array([hi_v]), np.array([float(self.n)])
        edges = np.linspace(lo_v, hi_v, buckets + 1)
        edges[-1] = hi_v
        cum = self.rank(edges[1:], "right").astype(np.float64)
        cum[-1] = self.n
        counts = np.diff(np.concatenate([[0.0], cum]))
        return edges[:-1], edges[1:], counts


# ----------------------------------------------------------------------------- strings
class _Categorical:
    """Exact counts up to :data:`CATEGORY_LIMIT` categories, then Misra-Gries + KMV."""

    def __init__(self, category_limit: int = CATEGORY_LIMIT) -> None:
        self.category_limit = category_limit
        self.nulls = 0
        self.n = 0
        self.total_length = 0
        self.labels = None  # pyarrow Array of the distinct values seen
        self.counts = None  # pyarrow Int64 Array
        self.top = None  # MisraGriesSketch once over the limit
        self.distinct = None  # KmvSketch once over the limit

    def add(self, arr) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_null(arr.type):
            self.nulls += len(arr)
            return
        self.nulls += arr.null_count
        values = arr.drop_null() if arr.null_count else arr
        if len(values) == 0:
            return
        self.n += len(values)
        self.total_length += int(pc.sum(pc.binary_length(values)).as_py() or 0)
        if self.top is not None:
            self.top.AddValues(values)
            self.distinct.AddValues(values)
            return
        vc = pc.value_counts(values)
        labels, counts = vc.field("values"), _int64s(vc.field("counts"))
        if self.labels is not None:
            # Merge by dictionary-encoding old and new labels together (pyarrow's group_by
            # would import pandas).
            encoded = pc.dictionary_encode(pa.concat_arrays([self.labels, labels]))
            idx = encoded.indices
            idx = np.frombuffer(idx.buffers()[1], dtype=np.int32, count=len(idx) + idx.offset)
            weights = np.concatenate([self.counts, counts]).astype(np.float64)
            counts = np.bincount(idx[encoded.indices.offset :], weights=weights)
            counts = counts.round().astype(np.int64)
            labels = encoded.dictionary
        self.labels, self.counts = labels, counts
        if len(labels) > self.category_limit:
            from tfx_bsl import sketches

            self.top = sketches.MisraGriesSketch(self.category_limit)
            weights = np.ascontiguousarray(counts, dtype=np.float32)
            self.top.AddValues(
                labels,
                pa.Array.from_buffers(pa.float32(), len(weights), [None, pa.py_buffer(weights)]),
            )
            self.distinct = sketches.KmvSketch(1 << 14)
            self.distinct.AddValues(labels)
            self.labels = self.counts = None

    def fill(self, feature, n_rows: int, rank_buckets: int, top_values: int) -> bool:
        """Write the feature's ``string_stats``; True when its counts are estimates."""
        ss = feature.string_stats
        _fill_common(ss.common_stats, n_rows, self.n)
        if self.n == 0:
            return False
        if self.top is None:
            labels, counts = self.labels.to_pylist(), self.counts
            unique = len(labels)
        else:
            est = self.top.Estimate()
            labels, counts = est.field("values").to_pylist(), _ints(est.field("counts"))
            unique = int(self.distinct.Estimate())
        fill_string_counts(ss, labels, counts, unique, rank_buckets, top_values)
        ss.avg_length = self.total_length / self.n
        return self.top is not None


def _ints(arr) -> np.ndarray:
    """An Arrow numeric array without nulls as int64 (no pandas import)."""
    return np.asarray(arr.to_pylist(), dtype=np.float64).round().astype(np.int64)


def _int64s(arr) -> np.ndarray:
    """An Int64 Arrow Array without nulls as numpy (a copy; ``to_numpy`` imports pandas)."""
    n, off = len(arr), arr.offset
    return np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + off)[off:].copy()


# --------------------------------------------------------------------------------- read
_COLUMN_ERROR = re.compile(r"CSV column #(\d+)")
_WIDER = {"null": "int64", "bool": "string", "int64": "double", "double": "string"}


def _open(
    path: str,
    delimiter: str,
    column_types: Dict[str, object],
    block_size: int,
    use_threads: bool = True,
):
    from pyarrow import csv

    return csv.open_csv(
        path,
        read_options=csv.ReadOptions(block_size=block_size, use_threads=use_threads),
        parse_options=csv.ParseOptions(delimiter=delimiter),
        convert_options=csv.ConvertOptions(
            strings_can_be_null=True, timestamp_parsers=[], column_types=column_types
        ),
    )


def _block_for(path: str) -> int:
    """:data:`BLOCK_SIZE`, or more for a wide file: about :data:`BATCH_ROWS` rows per batch
    (from the length of the lines in the first 64 KiB), at most :data:`MAX_BLOCK` bytes."""
    import gzip

    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        with (gzip.open if gz else open)(path, "rb") as f:
            head = f.read(1 << 16)
    except (OSError, EOFError):
        return BLOCK_SIZE
    lines = head.count(b"\n")
    per_row = len(head) / max(lines, 1)
    return int(min(max(BLOCK_SIZE, per_row * BATCH_ROWS), MAX_BLOCK))


def _typed_reader(path: str, delimiter: str, column_types: Dict[str, object], block_size: int):
    """The streaming reader of ``path`` with every column's type given.

    pyarrow infers the types from the first block; a reader left to infer them keeps
    converting every later block through its inference machinery, which costs about a third
    more CPU than converting to given types (1.6 s against 1.1 s on the 50k x 550 wide table,
    1.1 s against 0.65 s on 1.7M rows x 15 columns). So the first block is read once for its
    schema, and the file is opened again with all the types fixed: the same types, the same
    errors on a later block that does not fit them. Neither reader uses threads: no
    read-ahead (see the module docstring's memory note).

    Raises:
      InvalidInputError: two columns share a name.
    """
    inferring = _open(path, delimiter, column_types, block_size, use_threads=False)
    schema = inferring.schema
    inferring.close()
    del inferring  # close() keeps its ~65 MiB of buffers (on the wide table) until it is freed
    check_unique_columns(list(schema.names), f"CSV {path!r}")
    return _open(path, delimiter, {f.name: f.type for f in schema}, block_size, use_threads=False)


def _kind(arrow_type) -> str:
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return INT
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "FLOAT"
    return STRING


def _as_float(arr) -> np.ndarray:
    """A numeric Arrow Array as float64, NaN where it holds nulls: a read-only view of its
    buffer when it is float64 without nulls (no copy), else a new array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(arr.type):
        arr = pc.cast(arr, pa.int8())
    if not pa.types.is_float64(arr.type):
        arr = pc.cast(arr, pa.float64())
    return float64_values(arr) if arr.null_count else float64_buffer(arr)


def _as_text(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)
        t = arr.type
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_null(t)
    ):
        return arr
    return pc.cast(arr, pa.string())  # dates, times: their text, as pandas keeps them


def streaming_statistics_from_csv(
    path: str,
    delimiter: str = ",",
    quantile_buckets: int = 100,
    rank_buckets: int = 1000,
    name: str = "",
    top_values: int = TOP_VALUES,
    progress: Optional[Callable[[str], None]] = None,
    exact_values: int = EXACT_VALUES,
    category_limit: int = CATEGORY_LIMIT,
    block_size: int = BLOCK_SIZE,
    distinct_values: int = DISTINCT_VALUES,
    kept_values: int = KEPT_VALUES,
) -> StreamStatistics:
    """Statistics of a CSV file (``.gz`` too) in one streaming pass (see the module docstring).

    Args:
      path: the CSV file.
      delimiter: its field delimiter (:func:`fast_stats.sniff_csv` detects it).
      quantile_buckets: buckets of each numeric ``QUANTILES`` histogram.
      rank_buckets: categories kept in each ``rank_histogram``.
      name: the dataset name written in the proto.
      top_values: entries of ``top_values``.
      progress: called with a progress line every :data:`PROGRESS_EVERY` seconds.
      exact_values: numeric values per column kept exactly before sketching
        (:data:`EXACT_VALUES`; 0 sketches every column).
      category_limit: categories per column counted exactly (:data:`CATEGORY_LIMIT`).
      block_size: bytes of CSV text per record batch (:data:`BLOCK_SIZE`: the default
        picks up to :data:`MAX_BLOCK` for wide files and gathers batches up to
        :data:`BATCH_ROWS` rows; any other value is used as is, batch by batch).
      distinct_values: distinct values of a numeric column counted exactly past
        ``exact_values`` (:data:`DISTINCT_VALUES`; 0 goes straight to the sketch).
      kept_values: numeric values kept exactly across all columns (:data:`KEPT_VALUES`):
        each column keeps ``min(exact_values, max(kept_values // numeric columns,
        MIN_KEPT))``.

    Raises:
      InvalidInputError: the file cannot be parsed as CSV (naming it and the problem), holds
        no row, or two columns share a name.
    """
    import pyarrow as pa

    if int(quantile_buckets) < 1 or int(rank_buckets) < 0 or int(category_limit) < 1:
        raise InvalidInputError(
            f"quantile_buckets and category_limit must be >= 1 and rank_buckets >= 0, got "
            f"{quantile_buckets}, {category_limit} and {rank_buckets}"
        )
    limits = (
        int(exact_values),
        int(category_limit),
        int(block_size),
        int(distinct_values),
        int(kept_values),
    )
    column_types: Dict[str, object] = {}
    for _attempt in range(1000):
        try:
            return _one_pass(
                path,
                delimiter,
                column_types,
                int(quantile_buckets),
                int(rank_buckets),
                name,
                int(top_values),
                progress,
                limits,
            )
        except _Widen as widen:
            column_types[widen.column] = widen.to
            if progress:
                progress(f"column {safe(widen.column)!r} holds {widen.to} values: reading again")
        except pa.ArrowInvalid as exc:
            raise InvalidInputError(
                f"cannot read {path!r} as CSV: {_one_line(exc)}; check that the file is "
                "complete and well-formed"
            ) from None
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read {path!r} as CSV: {_one_line(exc)}; the file is truncated or "
                "corrupt (a .gz must be complete: check the download or re-create it)"
            ) from None
    raise InvalidInputError(f"cannot read {path!r} as CSV: column types keep changing")


class _Widen(Exception):
    def __init__(self, column: str, to) -> None:
        super().__init__(column)
        self.column, self.to = column, to


def _add_batches(batches, kinds, accs) -> None:
    """Feed consecutive record batches to the column accumulators, column by column (under
    :data:`_FEED_LOCK`)."""
    import pyarrow as pa

    with _FEED_LOCK:
        for i, acc in enumerate(accs):
            if len(batches) == 1:
                arr = batches[0].column(i)
            else:  # column by column: one column's copy at a time
                arr = pa.concat_arrays([b.column(i) for b in batches])
            if kinds[i] == STRING:
                acc.add(_as_text(arr))
            else:
                acc.add(_as_float(arr), arr.null_count)


def _one_pass(
    path,
    delimiter,
    column_types,
    quantile_buckets,
    rank_buckets,
    name,
    top_values,
    progress,
    limits,
) -> StreamStatistics:
    import pyarrow as pa
    from tensorflow_metadata.proto.v0 import statistics_pb2

    exact_values, category_limit, block_size, distinct_values, kept_values = limits
    # Batches are gathered up to BATCH_ROWS rows only with the automatic block size (an
    # explicit block_size is the batch).
    gather_rows = 0
    if block_size == BLOCK_SIZE:
        block_size = _block_for(path)
        gather_rows = BATCH_ROWS
    reader = _typed_reader(path, delimiter, column_types, block_size)
    schema = reader.schema
    names = list(schema.names)
    kinds = [_kind(f.type) for f in schema]
    numeric = sum(k != STRING for k in kinds)
    compact_k = 0
    if numeric and kept_values // numeric < exact_values:
        exact_values = max(kept_values // numeric, MIN_KEPT)
        compact_k = max(exact_values // COMPACT_SHARE, MIN_COMPACT)
    accs = [
        _Numeric(exact_values, distinct_values, compact_k)
        if k != STRING
        else _Categorical(category_limit)
        for k in kinds
    ]
    rows = pending_rows = 0
    pending: List[object] = []
    start = last = time.perf_counter()
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:
            found = _COLUMN_ERROR.search(str(exc))
            if not found or int(found.group(1)) >= len(names):
                raise
            col = names[int(found.group(1))]
            current = str(schema.field(col).type)
            wider = _WIDER.get(current, "string")
            to = pa.string() if wider == "string" else pa.type_for_alias(wider)
            if current == "string":
                raise
            raise _Widen(col, to) from None
        rows += batch.num_rows
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows >= gather_rows:
            _add_batches(pending, kinds, accs)
            pending, pending_rows = [], 0
        now = time.perf_counter()
        if progress and now - last >= PROGRESS_EVERY:
            last = now
            progress(f"{rows:,} rows read ({rows / (now - start):,.0f} rows/s)")
    if pending:
        _add_batches(pending, kinds, accs)
        pending = []
    if rows == 0 or not names:
        raise InvalidInputError(
            f"CSV {path!r} holds no rows ({rows} rows, {len(names)} columns); give a CSV with "
            "a header row and data"
        )
    out = statistics_pb2.DatasetFeatureStatisticsList()
    ds = out.datasets.add()
    ds.name = name
    ds.num_examples = rows
    result = StreamStatistics(out, rows, len(names))
    buckets = (quantile_buckets, rank_buckets, top_values)
    _fill_features(ds, result, names, kinds, accs, name or path, category_limit, buckets)
    return result


def _fill_features(ds, result, names, kinds, accs, source, category_limit, buckets) -> None:
    """Write every column's feature into ``ds`` (a ``DatasetFeatureStatistics``) and note in
    ``result`` the features whose counts or histograms are estimates (``source``: the dataset
    or file named in those notes; ``buckets``: quantile, rank and top-value counts). Under
    :data:`_FEED_LOCK`: filling the protos is Python work too."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    quantile_buckets, rank_buckets, top_values = buckets
    rows = int(ds.num_examples)
    types = statistics_pb2.FeatureNameStatistics
    with _FEED_LOCK:
        for col, kind, acc in zip(names, kinds, accs, strict=True):
            feature = ds.features.add()
            feature.path.step.append(str(col))
            if kind == STRING:
                feature.type = types.STRING
                if acc.fill(feature, rows, rank_buckets, top_values):
                    note = (
                        f"feature {safe(col)!r} of {source!r} has more than {category_limit:,} "
                        "categories: its counts and number of unique values are estimates "
                        "(Misra-Gries and KMV sketches), not exact"
                    )
                    feature.custom_stats.add(name=APPROXIMATE, str=note)
                    result.approximations.append(note)
            else:
                feature.type = types.INT if kind == INT and acc.nulls == 0 else types.FLOAT
                if acc.fill(feature, rows, quantile_buckets):
                    feature.custom_stats.add(
                        name=APPROXIMATE,
                        str=f"median and histograms from a quantile sketch (rank error <= "
                        f"{SKETCH_EPS + 1 / SKETCH_POINTS:.2g})",
                    )
                    result.sketched.append(str(col))
