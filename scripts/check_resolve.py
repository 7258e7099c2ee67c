"""Time what a new user's `pip install tfx-addons-lab` resolves to, without installing anything.

Creates an EMPTY virtualenv with the running interpreter, then runs
`pip install --dry-run --report` of the given wheel with no constraints and no pip config, under a
time limit, and checks the result against the tested combinations in constraints/*.txt: the
TFX line (tfx, tensorflow, ml-metadata, TFDV, tensorflow-metadata) must match one file exactly
and Python must be the file's Python; other differences from that file (protobuf, numpy,
apache-beam, scipy, kfp, mlflow) are printed, not failed.
Only metadata is fetched (pip's cache makes re-runs fast); stdlib only.

    python3.10 scripts/check_resolve.py dist/tfx_addons_lab-*.whl --extras mlflow,kfp
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

EXACT = ["tfx", "tensorflow", "ml-metadata", "tensorflow-data-validation", "tensorflow-metadata"]
OTHERS = ["protobuf", "numpy", "apache-beam", "scipy", "kfp", "mlflow"]


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: str) -> dict[str, str]:
    pins = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[norm(name)] = version.strip()
    return pins


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel")
    ap.add_argument("--extras", default="", help="comma-separated extras, e.g. mlflow,kfp")
    ap.add_argument("--limit", type=int, default=int(os.environ.get("RESOLVE_LIMIT_SECONDS", 300)))
    ap.add_argument("--constraints-dir", default=os.path.join(os.path.dirname(__file__), "..", "constraints"))
    ap.add_argument("--report", help="keep pip's JSON report here")
    ap.add_argument("--keep-pip", action="store_true", help="use the venv's bundled pip, do not upgrade it")
    args = ap.parse_args()

    py = "%d.%d" % sys.version_info[:2]
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    for var in ("PIP_CONSTRAINT", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_REQUIREMENT"):
        env.pop(var, None)
    with tempfile.TemporaryDirectory(prefix="tfx-addons-lab-resolve-") as tmp:
        venv = os.path.join(tmp, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        vpy = os.path.join(venv, "bin", "python")
        if not args.keep_pip:
            subprocess.run([vpy, "-m", "pip", "install", "-q", "-U", "pip"], check=True, env=env)
        pip_version = subprocess.run(
            [vpy, "-m", "pip", "--version"], check=True, capture_output=True, text=True, env=env
        ).stdout.split()[1]
        report = args.report or os.path.join(tmp, "report.json")
        target = os.path.abspath(args.wheel) + (f"[{args.extras}]" if args.extras else "")
        cmd = [vpy, "-m", "pip", "install", "--dry-run", "--quiet", "--report", report, target]
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, env=env, timeout=args.limit, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            print(f"FAIL python {py} pip {pip_version}: resolve still running after {args.limit} s")
            return 1
        secs = time.monotonic() - t0
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
            print(f"FAIL python {py} pip {pip_version}: pip exited {proc.returncode} after {secs:.0f} s")
            return 1
        with open(report) as f:
            got = {norm(i["metadata"]["name"]): i["metadata"]["version"] for i in json.load(f)["install"]}

    summary = " ".join(f"{n}={got[n]}" for n in EXACT + OTHERS if n in got)
    matches, differences = [], []
    for path in sorted(glob.glob(os.path.join(args.constraints_dir, "tfx-*-py*.txt"))):
        m = re.search(r"-py(\d+\.\d+)\.txt$", path)
        if not m or m.group(1) != py:
            continue
        pins = read_pins(path)
        if all(got.get(n) == pins.get(n) for n in EXACT):
            matches.append(os.path.basename(path))
            differences = [f"{n} {got[n]} (tested {pins[n]})" for n in OTHERS
                           if n in got and n in pins and got[n] != pins[n]]
    verdict = "OK" if matches else "FAIL"
    where = f"tested combination {matches[0]}" if matches else "no tested combination matches"
    print(f"{verdict} python {py} pip {pip_version}: resolved in {secs:.0f} s (limit {args.limit} s), {where}: {summary}")
    if differences:
        print("  differs from the tested set: " + ", ".join(differences))
    return 0 if matches else 1


if __name__ == "__main__":
    sys.exit(main())
