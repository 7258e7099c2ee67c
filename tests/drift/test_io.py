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


def test_one_tfrecord_reader_agrees_with_tensorflow(synthetic_stats, tmp_path):
    """split_tfrecords / first_tfrecord (no TensorFlow) read what tf.io writes, GZIP too."""
    import tensorflow as tf

    from tfx_addons_lab.drift.io import first_tfrecord, split_tfrecords

    a, b = synthetic_stats
    payloads = [a.SerializeToString(), b"", b"x" * 70000, b.SerializeToString()]
    for compression in ("", "GZIP"):
        path = tmp_path / f"records{compression}.tfrecord"
        with tf.io.TFRecordWriter(
            str(path), tf.io.TFRecordOptions(compression_type=compression)
        ) as w:
            for p in payloads:
                w.write(p)
        assert first_tfrecord(path) == payloads[0]
        if not compression:
            data = path.read_bytes()
            assert split_tfrecords(data) == payloads
            assert split_tfrecords(data, limit=2) == payloads[:2]
            assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == payloads
            # Damaged framing: a flipped bit in a length header, a cut file, trailing bytes.
            bad = bytearray(data)
            bad[3] ^= 0x01
            assert split_tfrecords(bytes(bad)) is None
            assert split_tfrecords(data[:-3]) is None
            assert split_tfrecords(data + b"\0") is None
    # Not TFRecords: CSV text, a statistics proto, garbage, a truncated gzip.
    for i, content in enumerate([b"a,b\n1,2\n", a.SerializeToString(), bytes(range(256))]):
        p = tmp_path / f"other{i}"
        p.write_bytes(content)
        assert first_tfrecord(p) is None
        assert split_tfrecords(content) is None
    gz = (tmp_path / "recordsGZIP.tfrecord").read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gz[:20])
    assert first_tfrecord(cut) is None


def test_crc32c_fallback_and_several_statistics_records(synthetic_stats, tmp_path, monkeypatch):
    """The pure-Python CRC-32C equals the installed one (google_crc32c when importable) and
    reads the same; a TFRecord of several statistics records loads as their datasets."""
    import tensorflow as tf

    from tfx_addons_lab.drift import io

    for data in (b"", b"123456789", bytes(range(256)) * 9):
        assert io._crc32c(data) == io._crc32c_python(data)
    assert io._crc32c_python(b"123456789") == 0xE3069283  # the CRC-32C check value
    a, b = synthetic_stats
    path = tmp_path / "stats_tfrecord"
    with tf.io.TFRecordWriter(str(path)) as w:
        w.write(a.SerializeToString())
        w.write(b.SerializeToString())
    expected = [*a.datasets, *b.datasets]
    assert list(io.load_statistics(path).datasets) == expected
    monkeypatch.setattr(io, "_crc32c_impl", io._crc32c_python)
    assert list(io.load_statistics(path).datasets) == expected


@pytest.mark.parametrize("engine", ["tfdv", "numpy"])
@pytest.mark.parametrize("names", [["a", "a"], ["x", "y", "x", "y"], ["1", "b", "1"]])
def test_duplicated_column_names_are_refused_by_both_engines(engine, names):
    import pandas as pd

    from tfx_addons_lab.drift import fast_statistics_from_dataframe, statistics_from_dataframe

    df = pd.DataFrame([[1.0] * len(names), [2.0] * len(names)], columns=names)
    build = statistics_from_dataframe if engine == "tfdv" else fast_statistics_from_dataframe
    with pytest.raises(InvalidInputError, match=f"duplicated column names \\('{names[0]}'"):
        build(df)


def test_load_statistics_refuses_a_fifo(tmp_path):
    import os

    fifo = tmp_path / "stats.pb"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match="stats.pb.*not a regular file"):
        load_statistics(fifo)
