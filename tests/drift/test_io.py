"""load_statistics: binary, TFRecord, text proto, StatisticsGen folders, and clear errors."""

from __future__ import annotations

import pytest

from tfx_addons_lab.drift import compare_statistics, load_statistics
from tfx_addons_lab.errors import InvalidInputError


def test_formats_round_trip(synthetic_stats, tmp_path):
    import tensorflow as tf
    import tensorflow_data_validation as tfdv

    stats, _ = synthetic_stats
    binary = tmp_path / "FeatureStats.pb"
    binary.write_bytes(stats.SerializeToString())  # what StatisticsGen writes
    text = tmp_path / "stats.pbtxt"
    tfdv.write_stats_text(stats, str(text))
    record = tmp_path / "stats_tfrecord"
    with tf.io.TFRecordWriter(str(record)) as w:
        w.write(stats.SerializeToString())
    assert tfdv.load_statistics(str(record)) == stats  # really a TFDV-readable TFRecord
    for path in (binary, text, record):
        assert load_statistics(path) == stats, path
        assert load_statistics(str(path)) == stats
    assert tfdv.load_stats_binary(str(binary)) == load_statistics(binary)


def test_statisticsgen_folders(synthetic_stats, tmp_path):
    a, b = synthetic_stats
    for split, stats in (("train", a), ("eval", b)):
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    assert load_statistics(tmp_path / "Split-eval") == b
    with pytest.raises(InvalidInputError, match="several splits.*Split-eval"):
        load_statistics(tmp_path)
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no FeatureStats.pb"):
        load_statistics(empty)


def test_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.pb"
    with pytest.raises(InvalidInputError, match="nope.pb.*does not exist"):
        load_statistics(missing)
    empty = tmp_path / "empty.pb"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty.pb.*is empty"):
        load_statistics(empty)
    garbage = tmp_path / "garbage.pb"
    garbage.write_bytes(b"\xff\xfe\x00 definitely not a proto \x07\x08")
    with pytest.raises(InvalidInputError, match="garbage.pb.*not readable TFDV statistics"):
        load_statistics(garbage)
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="data.csv"):
        load_statistics(csv)


def test_loaded_statistics_compare(synthetic_stats, tmp_path):
    a, b = synthetic_stats
    pa, pb = tmp_path / "a.pb", tmp_path / "b.pb"
    pa.write_bytes(a.SerializeToString())
    pb.write_bytes(b.SerializeToString())
    r1 = compare_statistics(load_statistics(pa), load_statistics(pb))
    r2 = compare_statistics(a, b)
    assert r1.to_dict() == r2.to_dict()


def test_core_imports_neither_tfx_nor_tensorflow(synthetic_stats, tmp_path):
    import subprocess
    import sys

    a, b = synthetic_stats
    (tmp_path / "a.pb").write_bytes(a.SerializeToString())
    (tmp_path / "b.pb").write_bytes(b.SerializeToString())
    code = (
        "import sys\n"
        "from tfx_addons_lab.drift import compare_statistics, load_statistics, render_html, "
        "to_anomalies\n"
        f"r = compare_statistics(load_statistics({str(tmp_path / 'a.pb')!r}), "
        f"load_statistics({str(tmp_path / 'b.pb')!r}))\n"
        "render_html(r); to_anomalies(r)\n"
        "bad = [m for m in ('tfx', 'tensorflow', 'tensorflow_data_validation') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print(r.summary_line())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("dataset drifted: 5/8")
