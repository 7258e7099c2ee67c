"""``tfx-addons-lab drift`` run as a user runs it: the installed console script, real files.

The second half tries hostile and broken input: fail closed on non-finite numbers, one-line
exit-2 errors (never a traceback) for broken inputs and options, delimiters detected, and text
from data printed inert.
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

from tests.components.drift_data import flights_month, write_csv

CLI = str(Path(sys.executable).parent / "tfx-addons-lab")


def _drift(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "drift", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def _assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("tfx-addons-lab drift: error:")
    for needle in needles:
        assert needle in errors[0], errors[0]


def _write_tfrecord(df, path: Path, gzip: bool) -> Path:
    """Write ``df`` as tf.Example records (int64 / float / bytes features, NaN = missing)."""
    import numpy as np
    import tensorflow as tf

    options = tf.io.TFRecordOptions(compression_type="GZIP" if gzip else "")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for row in df.itertuples(index=False):
            feats = {}
            for name, value in zip(df.columns, row, strict=True):
                if isinstance(value, str):
                    feats[name] = tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[value.encode()])
                    )
                elif isinstance(value, (int, np.integer)):
                    feats[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
                elif value == value:  # not NaN
                    feats[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
            ex = tf.train.Example(features=tf.train.Features(feature=feats))
            writer.write(ex.SerializeToString())
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """January and July flights (2000 each) as CSV, TFRecord (gz and plain) and statistics."""
    import tensorflow_data_validation as tfdv

    from tfx_addons_lab.drift import statistics_from_dataframe

    root = tmp_path_factory.mktemp("drift_cli")
    jan, jul = flights_month(1, 2000), flights_month(7, 2000)
    out = {
        "jan_csv": write_csv(jan, root, "jan.csv"),
        "jul_csv": write_csv(jul, root, "jul.csv"),
        "jan_tfr": _write_tfrecord(jan, root / "jan.tfrecord.gz", gzip=True),
        "jul_tfr": _write_tfrecord(jul, root / "jul.tfrecord", gzip=False),
        "root": root,
    }
    jan_stats = statistics_from_dataframe(jan)
    (root / "jan_stats.pb").write_bytes(jan_stats.SerializeToString())
    tfdv.write_stats_text(statistics_from_dataframe(jul), str(root / "jul_stats.pbtxt"))
    out["jan_stats"], out["jul_stats"] = root / "jan_stats.pb", root / "jul_stats.pbtxt"
    return out


@pytest.fixture(scope="module")
def csv_run(data):
    """January vs July from CSV, with --json and --html."""
    root = data["root"]
    proc = _drift(
        data["jan_csv"], data["jul_csv"], "--json", root / "r.json", "--html", root / "r.html"
    )
    return proc, json.loads((root / "r.json").read_text())


@pytest.fixture(scope="module")
def csv_tfdv_run(data):
    """The same comparison with TFDV's in-memory statistics (``--stats-engine tfdv``)."""
    out = data["root"] / "tfdv.json"
    proc = _drift(data["jan_csv"], data["jul_csv"], "--json", out, "--stats-engine", "tfdv")
    return proc, json.loads(out.read_text())


def test_csv_drift_exit_1_with_reports(csv_run, data):
    proc, report = csv_run
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert report["dataset_drifted"] is True
    drifted = {f["name"] for f in report["features"] if f["drifted"]}
    assert {"temp", "humid"} <= drifted
    # The table names the features and the verdict line closes it.
    assert "temp" in proc.stdout and "dataset drifted" in proc.stdout
    html = (data["root"] / "r.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "temp" in html
    assert "[drift]" in proc.stderr  # progress on stderr, not mixed into the table
    # CSV defaults to the numpy engine: no TensorFlow start-up.
    assert "(numpy engine)" in proc.stderr and "loaded TFDV" not in proc.stderr


def test_numpy_and_tfdv_engines_agree(csv_run, csv_tfdv_run):
    (proc_np, from_np), (proc_tfdv, from_tfdv) = csv_run, csv_tfdv_run
    assert proc_tfdv.returncode == proc_np.returncode == 1, proc_tfdv.stderr
    assert "loaded TFDV" in proc_tfdv.stderr and "(in memory)" in proc_tfdv.stderr
    assert from_np["drifted_features"] == from_tfdv["drifted_features"]
    tfdv_by_name = {f["name"]: f for f in from_tfdv["features"]}
    for f in from_np["features"]:
        g = tfdv_by_name[f["name"]]
        assert (f["method"], f["type"], f["drifted"]) == (g["method"], g["type"], g["drifted"])
        assert f["baseline"]["count"] == g["baseline"]["count"]
        assert f["current"]["missing"] == g["current"]["missing"]
        # Exact quantiles vs TFDV's KLL sketch.
        assert f["value"] == pytest.approx(g["value"], abs=0.02), f["name"]


def test_numpy_engine_never_imports_tensorflow(data, tmp_path):
    code = (
        "import sys\n"
        "from tfx_addons_lab.cli import main\n"
        f"rc = main(['drift', {str(data['jan_csv'])!r}, {str(data['jul_csv'])!r},\n"
        f"           '--json', {str(tmp_path / 'r.json')!r}])\n"
        "bad = [m for m in ('tensorflow', 'tensorflow_data_validation', 'tfx', 'apache_beam',\n"
        "                   'tfx_bsl') if m in sys.modules]\n"
        "print('RC', rc, 'LOADED', bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "RC 1 LOADED []" in proc.stdout, proc.stdout + proc.stderr
    # An extension-less CSV is told apart from a TFRecord without importing TensorFlow.
    bare = tmp_path / "jan_data"
    bare.write_bytes(Path(data["jan_csv"]).read_bytes())
    code = code.replace(repr(str(data["jan_csv"])), repr(str(bare)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "RC 1 LOADED []" in proc.stdout, proc.stdout + proc.stderr


def test_no_drift_exit_0_on_penguin_halves(tmp_path, penguins_frame):
    shuffled = penguins_frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    half = len(shuffled) // 2
    a = write_csv(shuffled.iloc[:half], tmp_path, "a.csv")
    b = write_csv(shuffled.iloc[half:], tmp_path, "b.csv")
    proc = _drift(a, b, "--json", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["dataset_drifted"] is False
    names = {f["name"]: f for f in report["features"]}
    # Small baseline (< 1000 rows): p-value tests, as Evidently chooses.
    assert names["bill_length_mm"]["method"] == "ks"
    assert names["species"]["method"] == "chi_square"
    assert "no dataset drift" in proc.stdout


def test_tfrecord_inputs_match_csv(csv_tfdv_run, data):
    _, from_csv = csv_tfdv_run  # both through TFDV: the same statistics
    out = data["root"] / "tfr.json"
    proc = _drift(data["jan_tfr"], data["jul_tfr"], "--json", out)
    assert proc.returncode == 1, proc.stderr
    from_tfr = json.loads(out.read_text())
    csv_values = {f["name"]: f["value"] for f in from_csv["features"]}
    for f in from_tfr["features"]:
        assert f["value"] == pytest.approx(csv_values[f["name"]], abs=1e-6), f["name"]


def test_statistics_files_binary_and_text(csv_run, data):
    _, from_csv = csv_run
    out = data["root"] / "stats.json"
    proc = _drift(data["jan_stats"], data["jul_stats"], "--json", out)
    assert proc.returncode == 1, proc.stderr
    from_stats = json.loads(out.read_text())
    assert from_stats["drifted_features"] == from_csv["drifted_features"]
    # Mixed inputs: CSV baseline, statistics current.
    assert _drift(data["jan_csv"], data["jul_stats"]).returncode == 1


def test_method_threshold_and_drift_share(data):
    out = data["root"] / "ks.json"
    proc = _drift(
        data["jan_csv"],
        data["jul_csv"],
        "--method",
        "ks",
        "--threshold",
        "0.01",
        "--drift-share",
        "0.9",
        "--json",
        out,
    )
    report = json.loads(out.read_text())
    numeric = [f for f in report["features"] if f["type"] == "numeric"]
    assert numeric and all(f["method"] == "ks" and f["threshold"] == 0.01 for f in numeric)
    assert report["drift_share_threshold"] == 0.9
    assert proc.returncode == (1 if report["dataset_drifted"] else 0)
    assert report["drift_share"] < 0.9 and proc.returncode == 0


def test_beam_path_streams_and_agrees(csv_tfdv_run, data):
    _, from_csv = csv_tfdv_run
    out = data["root"] / "beam.json"
    proc = _drift(
        data["jan_csv"], data["jul_csv"], "--json", out, "--beam", "--direct_num_workers=1"
    )
    assert proc.returncode == 1, proc.stderr
    assert "with Beam" in proc.stderr
    from_beam = json.loads(out.read_text())
    csv_values = {f["name"]: f["value"] for f in from_csv["features"]}
    for f in from_beam["features"]:
        # Beam merges quantile sketches across bundles: close to, not bit-equal with, memory.
        assert f["value"] == pytest.approx(csv_values[f["name"]], rel=0.05, abs=0.01), f["name"]


def test_unreadable_and_missing_inputs_exit_2(tmp_path, data):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 8)
    _assert_one_line_error(_drift(garbage, data["jul_csv"]), "BASELINE", "garbage.bin")
    _assert_one_line_error(
        _drift(data["jan_csv"], tmp_path / "nope.csv"), "CURRENT", "does not exist"
    )
    header_only = tmp_path / "empty.csv"
    header_only.write_text("a,b,c\n")
    _assert_one_line_error(_drift(header_only, data["jul_csv"]), "empty.csv")
    empty = tmp_path / "zero.csv"
    empty.write_text("")
    _assert_one_line_error(_drift(empty, data["jul_csv"]), "is empty")


def test_bad_options_exit_2(data):
    _assert_one_line_error(_drift(data["jan_csv"], data["jul_csv"], "--method", "nope"), "nope")
    _assert_one_line_error(
        _drift(data["jan_csv"], data["jul_csv"], "--drift-share", "1.5"), "--drift-share"
    )
    _assert_one_line_error(
        _drift(data["jan_csv"], data["jul_csv"], "--stats-engine", "numpy", "--beam"),
        "--stats-engine numpy",
    )
    proc = _drift(data["jan_csv"], data["jul_csv"], "--stats-engine", "bogus")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = _drift(data["jan_csv"])  # argparse: missing CURRENT
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


# ====================================================================== hostile and broken input
ENGINES = ("numpy", "tfdv")


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
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    _error(_drift(a, b, "--json", fifo), "--json", "not a regular file")
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
    assert proc.stderr.count("DriftConfig.") == 2  # each once on stderr too, not twice
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
