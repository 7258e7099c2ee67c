"""Reading TFDV statistics from files, and building them from a DataFrame in memory."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Callable, List, Optional, Union

from tfx_addons_lab.errors import InvalidInputError

#: File names StatisticsGen writes inside a split folder (newest first).
STATS_FILE_NAMES = ("FeatureStats.pb", "stats_tfrecord")


def _crc32c_python(data: bytes) -> int:
    """CRC-32C (Castagnoli), table-driven: the fallback when ``google_crc32c`` is absent."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _make_crc_table() -> List[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
        table.append(c)
    return table


_CRC_TABLE = _make_crc_table()
_crc32c_impl: Optional[Callable[[bytes], int]] = None


def _crc32c(data: bytes) -> int:
    """CRC-32C of ``data``: ``google_crc32c`` (C; installed with TFX's Google Cloud clients,
    not a dependency of ours) when importable, else the pure-Python table. Chosen on first use
    (see benchmarks/tfrecord_read.py)."""
    global _crc32c_impl
    if _crc32c_impl is None:
        try:
            from google_crc32c import value as _crc32c_impl
        except ImportError:
            _crc32c_impl = _crc32c_python
    return _crc32c_impl(data)


def _masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def is_tfrecord_header(header: bytes) -> bool:
    """True when 12 bytes start a TFRecord record: a length and its masked CRC-32C."""
    if len(header) < 12:
        return False
    return int.from_bytes(header[8:12], "little") == _masked_crc(header[:8])


def split_tfrecords(data: bytes, limit: Optional[int] = None) -> Optional[List[bytes]]:
    """The records of TFRecord-framed ``data`` (at most ``limit``), or None if not TFRecord.

    The one TFRecord reader of the package that does not import TensorFlow (statistics
    files, and telling a TFRecord input from a CSV). Every record's length header must carry
    its masked CRC-32C and, without ``limit``, the framing must consume ``data`` exactly.
    The payload CRC is not checked (a statistics record is then parsed as a proto, which
    fails on damage). Data files of ``tf.Example`` records are read with ``tf.data``.
    """
    records: List[bytes] = []
    pos, size = 0, len(data)
    while pos < size:
        if limit is not None and len(records) >= limit:
            return records
        if pos + 12 > size or not is_tfrecord_header(data[pos : pos + 12]):
            return None
        (length,) = struct.unpack_from("<Q", data, pos)
        end = pos + 12 + length + 4
        if end > size:
            return records if limit is not None and records else None
        records.append(data[pos + 12 : pos + 12 + length])
        pos = end
    return records or None


def first_tfrecord(path: Union[str, os.PathLike], max_length: int = 1 << 30) -> Optional[bytes]:
    """The first record of a TFRecord file (GZIP-compressed or not), or None if not one."""
    import gzip

    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as f:
            header = f.read(12)
            if not is_tfrecord_header(header):
                return None
            (length,) = struct.unpack("<Q", header[:8])
            if length > max_length:
                return None
            data = f.read(length)
            return data if len(data) == length else None
    except (OSError, EOFError):
        return None


def _resolve(path: Path) -> Path:
    """A file path, looking inside a StatisticsGen output folder if ``path`` is a folder."""
    if not path.is_dir():
        return path
    direct = [path / n for n in STATS_FILE_NAMES if (path / n).is_file()]
    if direct:
        return direct[0]
    splits = sorted(p for p in path.iterdir() if p.is_dir() and p.name.startswith("Split-"))
    found = [s / n for s in splits for n in STATS_FILE_NAMES if (s / n).is_file()]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(str(p.relative_to(path)) for p in found)
        raise InvalidInputError(
            f"statistics folder {str(path)!r} holds several splits ({names}); "
            "pass the file of the split to compare"
        )
    raise InvalidInputError(
        f"statistics folder {str(path)!r} holds no FeatureStats.pb; pass a statistics file "
        "(TFDV binary, TFRecord or text proto)"
    )


def load_statistics(path: Union[str, os.PathLike]):
    """Load TFDV statistics from ``path`` as a ``DatasetFeatureStatisticsList``.

    Accepts a serialized ``DatasetFeatureStatisticsList`` (StatisticsGen's ``FeatureStats.pb``,
    ``tfdv.load_stats_binary``), a TFRecord file of them (``tfdv.load_statistics``), a text
    proto (``tfdv.write_stats_text``), or a StatisticsGen split folder holding one of these.

    Raises:
      InvalidInputError: the file does not exist, is empty, or is not TFDV statistics; the
        message names the file and the problem.
    """
    from google.protobuf import message, text_format
    from tensorflow_metadata.proto.v0 import statistics_pb2

    p = Path(os.fspath(path))
    if not p.exists():
        raise InvalidInputError(f"statistics file {str(p)!r} does not exist")
    p = _resolve(p)
    if not p.is_file():
        raise InvalidInputError(
            f"statistics file {str(p)!r} is not a regular file (a pipe or device?); "
            "save the statistics to a file first"
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"statistics file {str(p)!r} cannot be read: {exc}") from None
    if not data.strip():
        raise InvalidInputError(f"statistics file {str(p)!r} is empty")

    def ok(stats) -> bool:
        return len(stats.datasets) > 0 and all(
            d.num_examples > 0 or len(d.features) > 0 or d.name for d in stats.datasets
        )

    # 1. TFRecord of DatasetFeatureStatisticsList records.
    records = split_tfrecords(data)
    if records:
        merged = statistics_pb2.DatasetFeatureStatisticsList()
        try:
            for rec in records:  # merging a record appends its datasets (no copy)
                merged.MergeFromString(rec)
            if ok(merged):
                return merged
        except message.DecodeError:
            pass
    # 2. Text proto.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.lstrip()[:1].isalpha():
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        try:
            text_format.Parse(text, stats)
            if ok(stats):
                return stats
        except text_format.ParseError as exc:
            text_error = str(exc)
        else:
            text_error = "no dataset in it"
    else:
        text_error = None
    # 3. Binary serialized proto.
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    try:
        stats.ParseFromString(data)
        if ok(stats):
            return stats
        problem = "it parses but holds no dataset"
    except message.DecodeError as exc:
        problem = f"not a statistics proto ({exc})"
    if text_error:
        problem += f"; as a text proto: {text_error}"
    raise InvalidInputError(
        f"statistics file {str(p)!r} is not readable TFDV statistics: {problem}. Expected a "
        "DatasetFeatureStatisticsList (binary, TFRecord or text proto) as StatisticsGen or "
        "tfdv.generate_statistics_* write"
    )


def statistics_from_dataframe(
    df,
    quantile_buckets: int = 100,
    rank_buckets: int = 1000,
    stats_options=None,
):
    """TFDV statistics of a pandas DataFrame, computed in memory (no Beam).

    Uses ``tfdv.generate_statistics_from_dataframe`` with
    ``StatsOptions(num_quantiles_histogram_buckets=quantile_buckets,
    num_rank_histogram_buckets=rank_buckets)`` unless ``stats_options`` is given.
    Returns a ``DatasetFeatureStatisticsList``.

    TFDV (and so TensorFlow) is imported when this is called, never when
    :mod:`tfx_addons_lab.drift` is imported.

    Raises:
      InvalidInputError: the table has no row, or two columns share a name (TFDV would
        otherwise keep one of them silently).
    """
    from tfx_addons_lab.drift.fast_stats import check_unique_columns

    check_unique_columns(df.columns)
    try:
        import tensorflow_data_validation as tfdv
    except ImportError as exc:  # pragma: no cover - TFDV is installed with TFX
        raise ImportError(
            "statistics_from_dataframe needs tensorflow_data_validation (installed with "
            "tfx); fast_statistics_from_dataframe computes the same statistics without it"
        ) from exc

    if stats_options is None:
        stats_options = tfdv.StatsOptions(
            num_quantiles_histogram_buckets=int(quantile_buckets),
            num_rank_histogram_buckets=int(rank_buckets),
        )
    if len(df) == 0:
        raise InvalidInputError("cannot build statistics of an empty table (0 rows)")
    # A non-default pandas index would become a feature ("__index_level_0__"): drop it.
    df = df.reset_index(drop=True)
    return tfdv.generate_statistics_from_dataframe(df, stats_options=stats_options)
