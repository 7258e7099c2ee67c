"""Whole-process time of the small CLI commands (issue 14 targets), against floors in the same run.

* ``tfx-addons-lab drift A.csv B.csv --json OUT`` on two 20k-row CSVs (7 numeric and 3
  categorical columns, default methods): target <= 0.5 s;
* ``tfx-addons-lab registry list FOLDER MODEL`` on a folder registry with 3 versions:
  target <= 0.15 s;
* floors: ``python -c pass`` (the interpreter) and ``python -c "import numpy, pyarrow.csv"``
  (what reading a CSV into arrays needs at least).

Each command runs ``--repeats`` times as its own process (rotating order); wall and CPU
(user + sys, from ``os.wait4``) medians are printed with the ratio to the import floor, and
written to ``benchmarks/results/cli_startup.json``.

Usage::

    .venv/bin/python benchmarks/cli_startup.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics as stats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _write_inputs(folder: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for name, shift in (("a", 0.0), ("b", 0.3)):
        n = 20_000
        cols = {f"x{i}": rng.normal(shift, 1.0, n) for i in range(7)}
        cols.update({f"c{i}": rng.choice(list("ABCDEFG"), n) for i in range(3)})
        header = ",".join(cols)
        rows = zip(*(cols[k] for k in cols), strict=True)
        lines = [header] + [",".join(str(v) for v in row) for row in rows]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n")


def _make_registry(folder: Path) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from tfx_addons_lab.registry import open_registry

    reg = open_registry(str(folder / "registry"))
    for i in range(3):
        model = folder / f"model{i}"
        model.mkdir()
        (model / "saved_model.pb").write_bytes(os.urandom(1024))
        reg.push("demo", str(model), {"source_uri": str(model)})


def _run(cmd) -> tuple:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # drift exits 1 when the dataset drifted
        raise SystemExit(f"{cmd} failed ({code}): {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_inputs(folder)
        _make_registry(folder)
        cli = str(BIN / "tfx-addons-lab")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import numpy, pyarrow.csv": [sys.executable, "-c", "import numpy, pyarrow.csv"],
            "drift (2 x 20k rows)": [
                cli,
                "drift",
                str(folder / "a.csv"),
                str(folder / "b.csv"),
                "--json",
                str(folder / "out.json"),
            ],
            "registry list": [cli, "registry", "list", str(folder / "registry"), "demo"],
        }
        for cmd in commands.values():  # warm the page cache
            _run(cmd)
        samples = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, cmd in commands.items():
                samples[name].append(_run(cmd))
    load = os.getloadavg()[0]
    floor = stats.median(w for w, _ in samples["import numpy, pyarrow.csv"])
    targets = {"drift (2 x 20k rows)": 0.5, "registry list": 0.15}
    print(f"median of {args.repeats} processes each (load {load:.1f})")
    result = {"repeats": args.repeats, "load_average": load, "commands": {}}
    for name in commands:
        wall = stats.median(w for w, _ in samples[name])
        cpu = stats.median(c for _, c in samples[name])
        target = targets.get(name)
        note = f"  target <= {target} s" if target else ""
        print(
            f"  {name:<28} wall {wall:6.3f} s  cpu {cpu:6.3f} s  "
            f"{wall / floor:5.2f}x the import floor{note}"
        )
        result["commands"][name] = {"wall_s": wall, "cpu_s": cpu, "target_s": target}
    out = REPO / "benchmarks" / "results" / "cli_startup.json"
    result["command"] = "benchmarks/cli_startup.py " + " ".join(sys.argv[1:])
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
