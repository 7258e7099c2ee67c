"""What the CLI imports: ``drift`` on CSV and ``registry list`` load no pandas/TF/TFX.

A behaviour test, not a timing test: ``python -X importtime`` lists every module a real CLI
process imported; heavy libraries a command does not need must not be among them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Set

import numpy as np

from tfx_addons_lab.registry import open_registry

from ..registry._helpers import make_model

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("pandas", "tensorflow", "tfx", "tensorflow_data_validation", "apache_beam")


def _imported(args: List[str]) -> Set[str]:
    """Top-level names of the modules ``python -X importtime -m tfx_addons_lab ARGS`` loads."""
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tfx_addons_lab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "tfx_addons_lab" in names  # the listing is real
    return names


def _csv(path: Path, shift: float, rows: int) -> str:
    rng = np.random.default_rng(int(shift * 10))
    lines = ["x,y,colour"]
    colours = np.array(["red", "green", "blue"])
    for x, y, c in zip(
        rng.normal(shift, 1, rows),
        rng.integers(0, 9, rows),
        colours[rng.integers(0, 3, rows)],
        strict=True,
    ):
        lines.append(f"{x:.4f},{y},{c}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_drift_on_csv_imports_no_pandas_tensorflow_or_tfx(tmp_path):
    a = _csv(tmp_path / "a.csv", 0.0, 40_000)
    b = _csv(tmp_path / "b.csv", 0.5, 40_000)
    names = _imported(
        ["drift", a, b, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]
    )
    assert "pyarrow" in names and "numpy" in names
    # the default methods (wasserstein, jensen_shannon) need no scipy: importing
    # scipy.special alone cost ~0.14 s of a 0.5 s run
    assert not names & set(HEAVY + ("scipy",)), sorted(names & set(HEAVY + ("scipy",)))
    assert (tmp_path / "r.json").is_file()


def test_registry_list_imports_no_numpy_pandas_tensorflow_or_tfx(tmp_path):
    root = str(tmp_path / "registry")
    open_registry(root).push("penguin", str(make_model(tmp_path / "m", seed=1)))
    names = _imported(["registry", "list", root])
    assert not names & set(HEAVY + ("numpy", "pyarrow")), sorted(names & set(HEAVY))


def test_drift_says_when_category_counts_are_estimates(tmp_path):
    """More categories than the exact limit: stderr, the table and the JSON report say so."""
    rows = ["id,x"] + [f"u{i},{i % 7}" for i in range(12_000)]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(rows) + "\n")
    env = dict(os.environ, PYTHONPATH=SRC)
    report = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfx_addons_lab",
            "drift",
            str(path),
            str(path),
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    warnings = json.loads(report.read_text())["warnings"]
    assert len(warnings) == 2 and all("'id'" in w and "estimates" in w for w in warnings)
    assert "estimates" in proc.stdout and "estimates" in proc.stderr
