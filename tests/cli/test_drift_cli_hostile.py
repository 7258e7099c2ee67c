"""``tfx-addons-lab drift`` under hostile and broken input: the installed console script.

Fail closed on non-finite numbers, one-line exit-2 errors (never a traceback) for broken
inputs and options, delimiters detected, and text from data printed inert.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CLI = str(Path(sys.executable).parent / "tfx-addons-lab")
ENGINES = ("numpy", "tfdv")


def _drift(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "drift", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def _error(proc, *needles) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("tfx-addons-lab drift: error:"), errors[0]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(17)
    n = 3000
    base = pd.DataFrame(
        {"x": np.append(rng.normal(0, 1, n), np.inf), "calm": rng.normal(0, 1, n + 1)}
    )
    cur = pd.DataFrame(
        {"x": np.append(rng.normal(5, 1, n), np.inf), "calm": rng.normal(0, 1, n + 1)}
    )
    out = {"root": root}
    for name, df in (("inf_a", base), ("inf_b", cur)):
        out[name] = root / f"{name}.csv"
        df.to_csv(out[name], index=False)
    # Every calm value shifted by nothing, plus columns holding only non-finite values.
    calm_a = pd.DataFrame({"calm": rng.normal(0, 1, 500), "dead": [np.inf] * 500})
    calm_b = pd.DataFrame({"calm": rng.normal(0, 1, 500), "dead": ["-inf", "inf"] * 250})
    for name, df in (("dead_a", calm_a), ("dead_b", calm_b)):
        out[name] = root / f"{name}.csv"
        df.to_csv(out[name], index=False)
    plain = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.choice(["u", "v"], 400)})
    out["plain"] = root / "plain.csv"
    plain.to_csv(out["plain"], index=False)
    out["plain2"] = root / "plain2.csv"
    plain.sample(frac=1.0, random_state=1).to_csv(out["plain2"], index=False)
    return out


# ------------------------------------------------------------------ 4. non-finite numbers
@pytest.mark.parametrize("engine", ENGINES)
def test_infinite_values_do_not_hide_a_shift(files, engine):
    out = files["root"] / f"inf-{engine}.json"
    proc = _drift(files["inf_a"], files["inf_b"], "--stats-engine", engine, "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    x = next(f for f in report["features"] if f["name"] == "x")
    assert x["status"] == "ok" and x["drifted"] and x["value"] > 4.5, x
    assert x["baseline"]["nonfinite"] == 1 and "infinite value(s) left out" in x["note"]
    assert report["drifted_features"] == ["x"]


@pytest.mark.parametrize("engine", ENGINES)
def test_all_non_finite_column_fails_closed(files, engine):
    out = files["root"] / f"dead-{engine}.json"
    proc = _drift(files["dead_a"], files["dead_b"], "--stats-engine", engine, "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["dataset_drifted"] is True and report["n_drifted"] == 0
    assert report["not_evaluated_features"] == ["dead"]
    assert proc.stdout.splitlines()[-1].startswith("dataset drift assumed (fail closed)")
    assert "not_evaluated" in proc.stdout
    ok = _drift(
        files["dead_a"], files["dead_b"], "--stats-engine", engine, "--on-not-evaluated", "ignore"
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 not evaluated (ignored): dead" in ok.stdout


# ------------------------------------------------------------------ 7. broken inputs
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.97])
def test_truncated_gzip_is_refused(files, tmp_path, cut):
    whole = gzip.compress(Path(files["plain"]).read_bytes())
    bad = tmp_path / "data.csv.gz"
    bad.write_bytes(whole[: int(len(whole) * cut)])
    _error(_drift(files["plain"], bad), "CURRENT", "data.csv.gz", "truncated or corrupt")


def test_truncated_gzip_is_refused_by_the_tfdv_engine(files, tmp_path):
    whole = gzip.compress(Path(files["plain"]).read_bytes())
    bad = tmp_path / "data.csv.gz"
    bad.write_bytes(whole[: len(whole) // 2])
    _error(_drift(bad, files["plain"], "--stats-engine", "tfdv"), "BASELINE", "truncated")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("header", ["a,b,a", "a,a,a", "x,y,z,y"])
def test_duplicated_column_names_are_refused(files, tmp_path, engine, header):
    width = len(header.split(","))
    dup = tmp_path / "dup.csv"
    dup.write_text(header + "\n" + "".join(",".join([str(i)] * width) + "\n" for i in range(50)))
    dup_name = next(c for c in header.split(",") if header.split(",").count(c) > 1)
    _error(
        _drift(files["plain"], dup, "--stats-engine", engine),
        "CURRENT",
        "dup.csv",
        f"duplicated column names ('{dup_name}')",
        "rename",
    )


def test_fifo_folder_missing_and_empty_inputs(files, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    _error(_drift(fifo, files["plain"]), "BASELINE", "pipe.csv", "FIFO", "regular file")
    _error(_drift(files["plain"], fifo), "CURRENT", "FIFO")
    _error(_drift(tmp_path, files["plain"]), "BASELINE", "is a folder")
    _error(_drift(files["plain"], tmp_path / "nope.csv"), "CURRENT", "does not exist")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _error(_drift(empty, files["plain"]), "BASELINE", "is empty")


# ------------------------------------------------------------------ 11. options and delimiters
def test_reports_never_overwrite_an_input(files, tmp_path):
    a, b = files["plain"], files["plain2"]
    before = Path(a).read_bytes()
    _error(_drift(a, b, "--json", a), "--json", "BASELINE")
    _error(_drift(a, b, "--html", b), "--html", "CURRENT")
    link = tmp_path / "link.csv"
    link.symlink_to(a)
    _error(_drift(a, b, "--html", link), "--html", "BASELINE")
    same = tmp_path / "r.out"
    _error(_drift(a, b, "--json", same, "--html", same), "--json and --html")
    _error(_drift(a, b, "--html", tmp_path), "--html", "is a folder")
    assert Path(a).read_bytes() == before and not same.exists()


@pytest.mark.parametrize("top", ["-5", "-1"])
def test_negative_top_is_refused(files, top):
    _error(_drift(files["plain"], files["plain2"], "--top", top), "--top", top)


def test_top_says_how_many_rows_are_hidden(files, tmp_path):
    rng = np.random.default_rng(2)
    a = tmp_path / "wide_a.csv"
    b = tmp_path / "wide_b.csv"
    pd.DataFrame({f"w{i}": rng.normal(0, 1, 300) for i in range(5)}).to_csv(a, index=False)
    pd.DataFrame({f"w{i}": rng.normal(i, 1, 300) for i in range(5)}).to_csv(b, index=False)
    proc = _drift(a, b, "--top", "2")
    lines = proc.stdout.splitlines()
    assert "... 3 more features (use --top 0 for all)" in lines, proc.stdout
    assert len([ln for ln in lines if ln.startswith("w")]) == 2
    full = _drift(a, b, "--top", "0")
    assert "more features" not in full.stdout
    assert len([ln for ln in full.stdout.splitlines() if ln.startswith("w")]) == 5


@pytest.mark.parametrize("sep", [";", "\t", "|"])
@pytest.mark.parametrize("engine", ENGINES)
def test_delimiters_are_detected(files, tmp_path, sep, engine):
    frame = pd.read_csv(files["plain"])
    other = tmp_path / "other.csv"
    frame.to_csv(other, sep=sep, index=False)
    out = tmp_path / "r.json"
    proc = _drift(files["plain"], other, "--stats-engine", engine, "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"detected the delimiter {sep!r}" in proc.stderr
    report = json.loads(out.read_text())
    assert sorted(f["name"] for f in report["features"]) == ["a", "b"]
    assert all(f["status"] == "ok" for f in report["features"])


def test_a_delimiter_that_does_not_split_evenly_is_refused(files, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a;b;c\n1;2\n3;4;5;6\n7\n")
    _error(_drift(files["plain"], ragged), "CURRENT", "ragged.csv", "semicolon")


def test_config_file_warnings_and_errors(files, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"feature_methods": {"A": "psi"}, "feature_thresholds": {"bb": 0.2}}))
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    proc = _drift(files["plain"], files["plain2"], "--config", cfg, "--json", out, "--html", html)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("warning: DriftConfig.") == 2
    assert "feature_methods names 'A'" in proc.stderr
    assert len(json.loads(out.read_text())["warnings"]) == 2
    assert 'id="warnings"' in html.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"numeric_method": "nope"}')
    _error(_drift(files["plain"], files["plain2"], "--config", bad), "--config", "nope")
    bad.write_text("[1, 2]")
    _error(_drift(files["plain"], files["plain2"], "--config", bad), "--config", "JSON list")


# ------------------------------------------------------------------ 10. terminal injection
EVIL = [
    "temp\n\x1b[2Jno dataset drift: 0/9 features",
    "\rno dataset drift",
    "x\x1b]0;title\x07",
    "rtl\u202egnp.exe",
]


@pytest.mark.parametrize("engine", ENGINES)
def test_names_and_categories_from_data_are_printed_inert(tmp_path, engine):
    rng = np.random.default_rng(4)
    cols_a = {name: rng.normal(0, 1, 300) for name in EVIL}
    cols_b = {name: rng.normal(3, 1, 300) for name in EVIL}
    cols_a["cat\x1b[31m"] = rng.choice(["red\x1b[0m", "blue\nfake"], 300)
    cols_b["cat\x1b[31m"] = rng.choice(["red\x1b[0m", "green\x1b[2J"], 300)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(cols_a).to_csv(a, index=False, quoting=csv.QUOTE_ALL)
    pd.DataFrame(cols_b).to_csv(b, index=False, quoting=csv.QUOTE_ALL)
    proc = _drift(a, b, "--stats-engine", engine, "--top", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for stream in (proc.stdout, proc.stderr):
        assert "\x1b" not in stream and "\r" not in stream and "\x07" not in stream
        assert "\u202e" not in stream
    lines = proc.stdout.splitlines()
    verdicts = [ln for ln in lines if ln.startswith(("no dataset drift", "dataset drift"))]
    assert verdicts == [lines[-1]] and lines[-1].startswith("dataset drifted")
    assert "temp\\n\\e[2Jno dataset drift" in proc.stdout
    assert "cat\\e[31m" in proc.stdout
