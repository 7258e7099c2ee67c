"""Does reading BASELINE and CURRENT in two threads pay? (the drift CLI's numpy engine)

Runs :func:`tfx_addons_lab.drift.streaming.streaming_statistics_from_csv` on the two CSV files
of ``benchmarks/_data`` (written by ``drift_vs_evidently.py``) one after the other, then in two
threads as the CLI does, alternating, ``--repeats`` times each; prints the medians, the spread
and the ratio sequential / threads measured in the same run. A ratio near 2 on 2 cores means
pyarrow's reader, numpy and tfx_bsl's sketches run outside the GIL; near 1, that the GIL
serialises them. Also reports the process CPU time over wall time of each mode.

Usage::

    .venv/bin/python benchmarks/drift_threads.py [--scale 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tfx_addons_lab.drift.streaming import streaming_statistics_from_csv  # noqa: E402


def _sequential(files: List[str]) -> None:
    for f in files:
        streaming_statistics_from_csv(f)


def _threads(files: List[str]) -> None:
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        for fut in [pool.submit(streaming_statistics_from_csv, f) for f in files]:
            fut.result()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data = HERE / "_data"
    files = [str(data / f"baseline_x{args.scale}.csv"), str(data / f"current_x{args.scale}.csv")]
    for f in files:
        if not Path(f).exists():
            sys.exit(f"{f} is missing: run benchmarks/drift_vs_evidently.py --scales {args.scale}")
    _threads(files)  # warm up: imports, page cache
    times: Dict[str, List[float]] = {"sequential": [], "threads": []}
    cpu: Dict[str, List[float]] = {"sequential": [], "threads": []}
    for _ in range(args.repeats):
        for name, fn in (("sequential", _sequential), ("threads", _threads)):
            c0, t0 = time.process_time(), time.perf_counter()
            fn(files)
            wall = time.perf_counter() - t0
            times[name].append(wall)
            cpu[name].append((time.process_time() - c0) / wall)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for k, v in times.items():
        print(
            f"{k:>10}: median {med[k]:.2f} s (min {min(v):.2f}, max {max(v):.2f}), "
            f"CPU/wall {sorted(cpu[k])[len(cpu[k]) // 2]:.2f}"
        )
    print(f"sequential / threads: {med['sequential'] / med['threads']:.2f}x")
    out = HERE / "results" / f"drift_threads_x{args.scale}.json"
    out.write_text(
        json.dumps({"command": " ".join(sys.argv), "times_s": times, "cpu_per_wall": cpu}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
