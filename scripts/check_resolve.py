"""Time what a new user's `pip install tfx-addons-lab` resolves to, without installing anything.

Creates an EMPTY virtualenv with the running interpreter, then runs
`pip install --dry-run --report` of the given wheel with no constraints and no pip config, under a
time limit, and checks the result against the tested combinations in constraints/*.txt: the
TFX line (tfx, tensorflow, ml-metadata, TFDV, tensorflow-metadata) must match one file exactly
and Python must be the file's Python; other differences from that file (protobuf, numpy,
apache-beam, scipy, kfp, mlflow) are printed, not failed.
Only metadata is fetched; stdlib only.

With --beside REQ (e.g. tfx==1.16.0) it then checks, in the same empty venv, that adding our wheel
to REQ changes nothing: A = `pip install --dry-run --ignore-installed --report A.json REQ`,
B = the same with the wheel added (A and B run concurrently); B's resolved set must equal A's plus
exactly our package (same names, same versions). This compares two resolutions, not an installed
environment.

    python3.10 scripts/check_resolve.py dist/tfx_addons_lab-*.whl --extras mlflow,kfp
    python3.10 scripts/check_resolve.py dist/tfx_addons_lab-*.whl --beside tfx==1.16.0
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


def resolved(report: str) -> dict[str, str]:
    with open(report) as f:
        return {
            norm(i["metadata"]["name"]): i["metadata"]["version"] for i in json.load(f)["install"]
        }


def check_beside(
    vpy: str, env: dict, wheel: str, req: str, outdir: str, limit: int, tag: str
) -> int:
    """A = REQ alone, B = REQ + wheel, resolved concurrently; B must be A plus our package only."""
    os.makedirs(outdir, exist_ok=True)
    base = [vpy, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--report"]
    reports = {k: os.path.join(outdir, k + ".json") for k in ("A", "B")}
    runs = {
        "A": base + [reports["A"], *req.split()],
        "B": base + [reports["B"], *req.split(), wheel],
    }
    procs, secs = {}, {}
    t0 = time.monotonic()
    for k, cmd in runs.items():
        with open(os.path.join(outdir, k + ".log"), "w") as log:
            procs[k] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    while len(secs) < len(procs):
        for k, p in procs.items():
            if k not in secs and p.poll() is not None:
                secs[k] = time.monotonic() - t0
        if len(secs) < len(procs) and time.monotonic() - t0 > limit:
            for k, p in procs.items():
                if k not in secs:
                    p.kill()
                    p.wait()
            late = " and ".join(k for k in procs if k not in secs)
            print(f"FAIL {tag}: beside {req}: resolve {late} still running after {limit} s")
            return 1
        time.sleep(0.5)
    for k, p in procs.items():
        if p.returncode != 0:
            with open(os.path.join(outdir, k + ".log")) as f:
                print(f.read()[-3000:], file=sys.stderr)
            print(
                f"FAIL {tag}: beside {req}: pip ({k}) exited {p.returncode} after {secs[k]:.0f} s"
            )
            return 1
    a, b = resolved(reports["A"]), resolved(reports["B"])
    for k, got in (("A", a), ("B", b)):
        with open(os.path.join(outdir, k + ".txt"), "w") as f:
            f.writelines(f"{n}=={v}\n" for n, v in sorted(got.items()))
    ours_name, ours_version = os.path.basename(wheel).split("-")[:2]
    ours = norm(ours_name)
    print(
        f"  beside {req}: A ({req}) {len(a)} packages in {secs['A']:.0f} s, "
        f"B (+ our wheel) {len(b)} packages in {secs['B']:.0f} s (concurrent; lists in {outdir})"
    )
    changed = [
        f"{n}: {a.get(n, '-')} -> {b.get(n, '-')}"
        for n in sorted(set(a) | set(b))
        if n != ours and a.get(n) != b.get(n)
    ]
    if ours in a:
        changed.append(f"{ours}: {a[ours]} -> {b.get(ours, '-')} (already in A)")
    if b.get(ours) != ours_version:
        changed.append(f"{ours}: expected {ours_version} in B, got {b.get(ours, '-')}")
    if changed:
        for line in changed:
            print("    " + line)
        gone = sum(1 for n in a if n not in b)
        new = sum(1 for n in b if n not in a and n != ours)
        moved = len(changed) - gone - new
        first = ", ".join(c for c in changed if "-> -" not in c and ": -" not in c)[:200]
        print(
            f"FAIL {tag}: beside {req}: adding our wheel changes {len(changed)} package(s) "
            f"({moved} other version, {new} added, {gone} dropped): {first}"
        )
        return 1
    print(f"OK {tag}: beside {req}: B = A + {ours} {ours_version} ({len(a)} packages unchanged)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel")
    ap.add_argument("--extras", default="", help="comma-separated extras, e.g. mlflow,kfp")
    ap.add_argument("--limit", type=int, default=int(os.environ.get("RESOLVE_LIMIT_SECONDS", 300)))
    ap.add_argument(
        "--constraints-dir", default=os.path.join(os.path.dirname(__file__), "..", "constraints")
    )
    ap.add_argument("--report", help="keep pip's JSON report here")
    ap.add_argument(
        "--keep-pip", action="store_true", help="use the venv's bundled pip, do not upgrade it"
    )
    ap.add_argument(
        "--beside",
        metavar="REQ",
        help="also check that adding the wheel to REQ (requirements separated by spaces, e.g. "
        "tfx==1.16.0) resolves to REQ's own set plus our package only",
    )
    ap.add_argument("--beside-dir", help="keep the --beside reports and package lists here")
    args = ap.parse_args()

    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    for var in (
        "PIP_CONSTRAINT",
        "PIP_FIND_LINKS",
        "PIP_EXTRA_INDEX_URL",
        "PIP_INDEX_URL",
        "PIP_REQUIREMENT",
    ):
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
            print(
                f"FAIL python {py} pip {pip_version}: pip exited {proc.returncode} after {secs:.0f} s"
            )
            return 1
        got = resolved(report)
        rc = main_verdict(args, py, pip_version, secs, got)
        if args.beside:
            outdir = args.beside_dir or os.path.join(tmp, "beside")
            wheel = os.path.abspath(args.wheel)
            rc |= check_beside(
                vpy, env, wheel, args.beside, outdir, args.limit, f"python {py} pip {pip_version}"
            )
    return rc


def main_verdict(
    args: argparse.Namespace, py: str, pip_version: str, secs: float, got: dict[str, str]
) -> int:
    summary = " ".join(f"{n}={got[n]}" for n in EXACT + OTHERS if n in got)
    found = []  # (number of differences, file, differences) of every file with our TFX line
    for path in sorted(glob.glob(os.path.join(args.constraints_dir, "tfx-*-py*.txt"))):
        m = re.search(r"-py(\d+\.\d+)\.txt$", path)
        if not m or m.group(1) != py:
            continue
        pins = read_pins(path)
        if all(got.get(n) == pins.get(n) for n in EXACT):
            diff = [
                f"{n} {got[n]} (tested {pins[n]})"
                for n in OTHERS
                if n in got and n in pins and got[n] != pins[n]
            ]
            found.append((len(diff), os.path.basename(path), diff))
    found.sort()  # the tested set closest to the resolution first
    matches = [name for _, name, _ in found]
    differences = found[0][2] if found else []
    verdict = "OK" if matches else "FAIL"
    where = f"tested combination {matches[0]}" if matches else "no tested combination matches"
    print(
        f"{verdict} python {py} pip {pip_version}: resolved in {secs:.0f} s (limit {args.limit} s), {where}: {summary}"
    )
    if differences:
        print("  differs from the tested set: " + ", ".join(differences))
    return 0 if matches else 1


if __name__ == "__main__":
    sys.exit(main())
