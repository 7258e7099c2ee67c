"""``tfx-addons-lab drift BASELINE CURRENT``: compare two data sets for drift.

BASELINE and CURRENT are each a CSV file (``.csv``/``.tsv``, optionally ``.gz``), a TFRecord
file of ``tf.Example`` records (GZIP or not), or a TFDV statistics file
(``DatasetFeatureStatisticsList``: binary, TFRecord or text proto). The kind is detected from
the extension and, when that is not conclusive, from the content.

Statistics engines (``--stats-engine``):

* ``numpy`` (default for CSV): the file is streamed with pyarrow in record batches and
  TFDV-compatible statistics are computed with numpy and mergeable sketches
  (:mod:`tfx_addons_lab.drift.streaming`): memory bounded by a constant whatever the number
  of rows, exact below 65,536 values per column, ``ks``/``wasserstein`` within 0.02 of the
  raw rows above; categorical counts exact up to 10,000 categories (beyond, the report says
  which features hold estimates). No TensorFlow or pandas import; BASELINE and CURRENT are
  read in parallel.
* ``tfdv`` (always for TFRecord input): TFDV's in-memory statistics (no Beam), or with
  ``--beam [BEAM ARGS...]`` (last on the command line) an Apache Beam pipeline, so memory
  stays flat and it can run on a cluster, e.g. ``--beam --runner=DataflowRunner ...``.

A CSV file's delimiter is detected from its first lines (comma, tab, semicolon or pipe; see
:func:`tfx_addons_lab.drift.fast_stats.sniff_csv`); a CSV with duplicated column names is
refused by both engines.

Exit status: 0 no dataset drift, 1 dataset drifted (or, with the default
``--on-not-evaluated fail``, a feature could not be evaluated), 2 bad usage or unreadable
input: one line on stderr naming the input and the fix, never a traceback (``-v`` shows it).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
import warnings
from typing import List, Optional, Tuple

from tfx_addons_lab.errors import InvalidInputError, TfxAddonsLabError
from tfx_addons_lab.textfmt import safe

EXIT_NO_DRIFT = 0
EXIT_DRIFT = 1

#: Statistics options of the CLI: 100 quantile buckets make ``ks``/``wasserstein`` accurate to
#: ~0.02; 1000 rank buckets keep every category of most features.
QUANTILE_BUCKETS = 100
RANK_BUCKETS = 1000

NUMPY_ENGINE = "numpy"
TFDV_ENGINE = "tfdv"

CSV = "csv"
TFRECORD = "tfrecord"
STATISTICS = "statistics"

_CSV_EXT = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt.gz")
_TEXT_STATS_EXT = (".pbtxt", ".textproto", ".prototxt", ".pb.txt", ".txtpb")
_BINARY_STATS_EXT = (".pb", ".binarypb", ".stats", ".binpb")
_TFRECORD_EXT = (".tfrecord", ".tfrecords", ".tfrecord.gz", ".tfrecords.gz", ".rio", ".gz")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``drift`` arguments to ``parser``."""
    parser.add_argument("baseline", metavar="BASELINE", help="reference data or statistics")
    parser.add_argument("current", metavar="CURRENT", help="data or statistics to check")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--html", metavar="PATH", help="write the self-contained HTML report")
    parser.add_argument(
        "--method",
        metavar="NAME",
        help="drift method for every feature it applies to (e.g. ks, wasserstein, psi, "
        "jensen_shannon, hellinger, chi_square, l_infinity, tvd); default: automatic choice",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="threshold of the chosen method(s): a p-value cut-off or a distance",
    )
    parser.add_argument(
        "--drift-share",
        type=float,
        metavar="X",
        default=None,
        help="the data set drifts when this share of features drifted (default 0.5)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=20,
        metavar="N",
        help="show the N most severe features in the table (default 20; 0 = all)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="a JSON file holding a DriftConfig object (e.g. feature_methods, "
        "feature_thresholds, exclude); --method/--threshold/--drift-share/"
        "--on-not-evaluated override its keys",
    )
    parser.add_argument(
        "--on-not-evaluated",
        choices=("fail", "ignore"),
        default=None,
        help="a feature that cannot be evaluated (e.g. only infinite values): fail the "
        "dataset verdict (default, exit 1) or ignore it",
    )
    parser.add_argument(
        "--stats-engine",
        choices=(NUMPY_ENGINE, TFDV_ENGINE),
        default=None,
        help="how statistics of CSV input are computed: numpy (default: pyarrow + numpy, no "
        "TensorFlow, exact quantiles) or tfdv (TFDV in memory, or Beam with --beam). "
        "TFRecord input and --beam always use TFDV",
    )
    parser.add_argument(
        "--beam",
        nargs=argparse.REMAINDER,
        metavar="BEAM_ARG",
        help="compute statistics with Apache Beam (memory stays flat); the rest of the "
        "command line is passed to Beam, e.g. --beam --direct_num_workers=2",
    )


_VERBOSE = [False]


def _before_tensorflow() -> None:
    """Quiet TensorFlow's start-up logs (unless ``-v``); called before anything imports it."""
    from tfx_addons_lab._tf_env import quiet_tensorflow

    quiet_tensorflow(verbose=_VERBOSE[0])


def _progress(message: str) -> None:
    sys.stderr.write(f"[drift] {safe(message)}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- detection


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _head(path: str, n: int = 4096) -> bytes:
    import gzip

    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as f:
            return f.read(n)
    except (OSError, EOFError):
        return b""


def check_input_file(path: str, label: str) -> None:
    """Refuse what is not a readable, non-empty regular file, naming ``label`` and the fix."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInputError(
            f"{label} {path!r} does not exist; check the path (relative to {safe(os.getcwd())!r})"
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"{label} {path!r} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(
            f"{label} {path!r} is a folder; pass one file (CSV, TFRecord or TFDV statistics)"
        )
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise InvalidInputError(
            f"{label} {path!r} is {kind}; the input is read more than once, so save it to a "
            "regular file first"
        )
    if st.st_size == 0:
        raise InvalidInputError(f"{label} {path!r} is empty; give a file with data")
    if not os.access(path, os.R_OK):
        raise InvalidInputError(f"{label} {path!r} is not readable; check its permissions")


def _looks_like_example(record: bytes) -> bool:
    _before_tensorflow()
    from tensorflow.core.example import example_pb2

    try:
        ex = example_pb2.Example.FromString(record)
    except Exception:  # noqa: BLE001 - not an Example
        return False
    feats = ex.features.feature
    return bool(feats) and all(v.WhichOneof("kind") for v in feats.values())


def detect_kind(path: str, label: str) -> str:
    """``"csv"``, ``"tfrecord"`` (tf.Examples) or ``"statistics"``; InvalidInputError if none."""
    from tfx_addons_lab.drift.io import first_tfrecord

    check_input_file(path, label)
    lower = path.lower()
    if lower.endswith(_CSV_EXT):
        return CSV
    if lower.endswith(_TEXT_STATS_EXT + _BINARY_STATS_EXT) or "featurestats" in lower:
        return STATISTICS
    record = first_tfrecord(path)
    if record is not None and _looks_like_example(record):
        return TFRECORD
    if record is not None or lower.endswith(_TFRECORD_EXT):
        return STATISTICS  # a TFRecord of statistics (e.g. ``stats_tfrecord``)
    head = _head(path)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return STATISTICS  # binary: only a statistics proto is left
    first_line = text.splitlines()[0] if text else ""
    if "datasets" in text.split("{")[0] or text.lstrip().startswith("datasets"):
        return STATISTICS
    if any(d in first_line for d in (",", "\t", ";", "|")):
        return CSV
    raise InvalidInputError(
        f"cannot tell what {label} {path!r} is: expected a CSV file, a TFRecord file of "
        "tf.Examples or a TFDV statistics file (.pb, .pbtxt)"
    )


# --------------------------------------------------------------------------- statistics


def _stats_options():
    import tensorflow_data_validation as tfdv

    return tfdv.StatsOptions(
        num_quantiles_histogram_buckets=QUANTILE_BUCKETS,
        num_rank_histogram_buckets=RANK_BUCKETS,
    )


def _csv_delimiter(path: str, label: str) -> str:
    """The delimiter of a CSV input (extension default, else detected); refuses duplicated
    column names so both engines agree."""
    from tfx_addons_lab.drift.fast_stats import sniff_csv

    default = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
    try:
        delimiter, _ = sniff_csv(path, default)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{label}: {exc}") from None
    if delimiter != default:
        _progress(f"{label}: detected the delimiter {delimiter!r} in {path}")
    return delimiter


def _read_csv(path: str, label: str):
    import pandas as pd

    sep = _csv_delimiter(path, label)
    try:
        df = pd.read_csv(path, sep=sep, low_memory=False)
    except Exception as exc:  # noqa: BLE001 - pandas raises many kinds
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(
            f"cannot read {label} {path!r} as CSV: {safe(msg)}; check that the file is "
            "complete and well-formed"
        ) from None
    if df.empty or len(df.columns) == 0:
        raise InvalidInputError(f"{label} {path!r} holds no rows; give a CSV with a header row")
    return df


def _stats_from_dataframe(df):
    from tfx_addons_lab.drift.io import statistics_from_dataframe

    return statistics_from_dataframe(
        df, quantile_buckets=QUANTILE_BUCKETS, rank_buckets=RANK_BUCKETS
    )


def _read_tfrecord_batch(path: str, label: str):
    """All tf.Example records of ``path`` as one Arrow RecordBatch (in memory)."""
    import tensorflow as tf
    from tfx_bsl.coders import example_coder

    compression = "GZIP" if _is_gzip(path) else ""
    try:
        records = [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type=compression)]
    except Exception as exc:  # noqa: BLE001 - corrupt records
        raise InvalidInputError(f"cannot read {label} {path!r} as TFRecord: {exc}") from None
    if not records:
        raise InvalidInputError(f"{label} {path!r} holds no records")
    try:
        return example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    except Exception as exc:  # noqa: BLE001
        raise InvalidInputError(
            f"cannot decode {label} {path!r} as tf.Example records: {exc}"
        ) from None


def _numpy_statistics(path: str, label: str, notes: Optional[List[str]] = None):
    """Statistics of a CSV file in one streaming pass (pyarrow + numpy, no TensorFlow).

    Memory stays bounded whatever the number of rows (see
    :mod:`tfx_addons_lab.drift.streaming`); categorical counts that did not fit the exact
    limit are appended to ``notes`` (shown to the user and written into the report).
    """
    from tfx_addons_lab.drift.streaming import streaming_statistics_from_csv

    delimiter = _csv_delimiter(path, label)
    try:
        result = streaming_statistics_from_csv(
            path,
            delimiter,
            quantile_buckets=QUANTILE_BUCKETS,
            rank_buckets=RANK_BUCKETS,
            name=os.path.basename(path),
            progress=lambda msg: _progress(f"{label}: {msg}"),
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{label}: {exc}") from None
    if notes is not None:
        notes.extend(f"{label}: {note}" for note in result.approximations)
    _progress(f"{label}: {result.rows:,} rows x {result.columns} columns read from {path}")
    return result.statistics, result.rows


def _in_memory_statistics(path: str, kind: str, label: str):
    if kind == CSV:
        df = _read_csv(path, label)
        _progress(f"{label}: {len(df):,} rows x {len(df.columns)} columns read from {path}")
        return _stats_from_dataframe(df), len(df)
    from tensorflow_data_validation.statistics import stats_impl

    batch = _read_tfrecord_batch(path, label)
    _progress(f"{label}: {batch.num_rows:,} tf.Examples read from {path}")
    return stats_impl.generate_statistics_in_memory(batch, _stats_options()), batch.num_rows


def _beam_statistics(path: str, kind: str, label: str, beam_args: List[str]):
    import tempfile

    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(list(beam_args) or ["--direct_num_workers=1"])
    with tempfile.TemporaryDirectory(prefix="tfx-addons-lab-drift-") as tmp:
        out = os.path.join(tmp, "stats.tfrecord")
        try:
            if kind == CSV:
                delimiter = _csv_delimiter(path, label)
                stats = tfdv.generate_statistics_from_csv(
                    path,
                    stats_options=_stats_options(),
                    delimiter=delimiter,
                    output_path=out,
                    pipeline_options=options,
                )
            else:
                stats = tfdv.generate_statistics_from_tfrecord(
                    path,
                    stats_options=_stats_options(),
                    output_path=out,
                    pipeline_options=options,
                )
        except InvalidInputError:
            raise
        except Exception as exc:  # noqa: BLE001 - Beam wraps everything
            msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise InvalidInputError(
                f"cannot compute statistics of {label} {path!r} with Beam: {msg}"
            ) from None
    rows = int(stats.datasets[0].num_examples) if stats.datasets else 0
    return stats, rows


def load_input(
    path: str,
    label: str,
    beam_args: Optional[List[str]] = None,
    engine: Optional[str] = None,
    notes: Optional[List[str]] = None,
) -> Tuple[object, str]:
    """Statistics (``DatasetFeatureStatisticsList``) of one CLI input and its kind.

    ``engine`` is ``"numpy"``, ``"tfdv"`` or None (numpy for CSV without Beam, else TFDV).
    Estimates the user must know about (categorical counts that did not fit the exact limit
    of the numpy engine) are appended to ``notes``.
    """
    kind = detect_kind(path, label)
    engine = _engine_for(kind, beam_args, engine, label)
    if kind == STATISTICS:
        from tfx_addons_lab.drift.io import load_statistics

        try:
            stats = load_statistics(path)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{label}: {exc}") from None
        except Exception as exc:  # noqa: BLE001
            raise InvalidInputError(
                f"cannot read {label} {path!r} as TFDV statistics: {exc}"
            ) from None
        if not stats.datasets or not stats.datasets[0].features:
            raise InvalidInputError(
                f"{label} {path!r} is not a TFDV statistics file with features; expected a "
                "CSV file, a TFRecord of tf.Examples or a DatasetFeatureStatisticsList"
            )
        _progress(f"{label}: statistics read from {path}")
        return stats, "statistics"
    if engine == NUMPY_ENGINE:
        start = time.perf_counter()
        stats, rows = _numpy_statistics(path, label, notes)
        _progress(
            f"{label}: statistics of {rows:,} rows in {time.perf_counter() - start:.1f} s "
            "(numpy engine)"
        )
        return stats, kind
    if "tensorflow_data_validation" not in sys.modules:
        _before_tensorflow()
        t0 = time.perf_counter()
        import tensorflow_data_validation  # noqa: F401 - a few seconds: TF and Beam load

        _progress(f"loaded TFDV in {time.perf_counter() - t0:.1f} s")
    start = time.perf_counter()
    if beam_args is not None:
        _progress(f"{label}: computing statistics of {path} with Beam ...")
        stats, rows = _beam_statistics(path, kind, label, beam_args)
    else:
        stats, rows = _in_memory_statistics(path, kind, label)
    _progress(
        f"{label}: statistics of {rows:,} rows in {time.perf_counter() - start:.1f} s "
        f"({'Beam' if beam_args is not None else 'in memory'})"
    )
    return stats, kind


def _engine_for(kind: str, beam_args, engine: Optional[str], label: str) -> Optional[str]:
    """The statistics engine of an input of ``kind`` (None for a statistics file)."""
    if kind == STATISTICS:
        return None
    if engine is None:
        engine = NUMPY_ENGINE if kind == CSV and beam_args is None else TFDV_ENGINE
    if engine == NUMPY_ENGINE and kind != CSV:
        _progress(f"{label}: TFRecord input: statistics with TFDV (numpy reads CSV only)")
        engine = TFDV_ENGINE
    return engine


def load_inputs(
    baseline: str,
    current: str,
    beam_args: Optional[List[str]] = None,
    engine: Optional[str] = None,
    notes: Optional[List[str]] = None,
):
    """Statistics of BASELINE and CURRENT; two CSV files on the numpy engine are read at once.

    The streaming pass spends its time in pyarrow's reader and numpy/tfx_bsl kernels, which
    release the GIL, so two threads use both cores (``benchmarks/drift_scale.py`` measures
    it); other inputs are read one after the other.
    """
    kinds = [detect_kind(baseline, "BASELINE"), detect_kind(current, "CURRENT")]
    parallel = all(k == CSV for k in kinds) and (
        engine == NUMPY_ENGINE or (engine is None and beam_args is None)
    )
    if not parallel:
        b, _ = load_input(baseline, "BASELINE", beam_args, engine, notes)
        c, _ = load_input(current, "CURRENT", beam_args, engine, notes)
        return b, c
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        fb = pool.submit(load_input, baseline, "BASELINE", None, NUMPY_ENGINE, notes)
        fc = pool.submit(load_input, current, "CURRENT", None, NUMPY_ENGINE, notes)
        return fb.result()[0], fc.result()[0]


def _load_config_file(path: str) -> dict:
    import json

    check_input_file(path, "--config")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(
            f"--config {path!r} is not a JSON file: {safe(exc)}; give a JSON object of "
            'DriftConfig keys, e.g. {"feature_methods": {"fare": "psi"}}'
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"--config {path!r} holds a JSON {type(data).__name__}; give a JSON object of "
            "DriftConfig keys"
        )
    return data


def build_config(args: argparse.Namespace):
    """The ``DriftConfig`` of ``--config`` and the command-line options (options win)."""
    from tfx_addons_lab.drift.config import DriftConfig
    from tfx_addons_lab.drift.methods import get_method

    cfg = _load_config_file(args.config) if getattr(args, "config", None) else {}
    if args.drift_share is not None:
        cfg["drift_share"] = args.drift_share
    if getattr(args, "on_not_evaluated", None):
        cfg["on_not_evaluated"] = args.on_not_evaluated
    if args.method:
        method = get_method(args.method)
        if "numeric" in method.feature_types:
            cfg["numeric_method"] = args.method
        if "categorical" in method.feature_types:
            cfg["categorical_method"] = args.method
    if args.threshold is not None:
        cfg["threshold"] = args.threshold
    try:
        return DriftConfig.from_dict(cfg)
    except InvalidInputError as exc:
        where = f"--config {args.config!r}: " if getattr(args, "config", None) else ""
        raise InvalidInputError(f"{where}{exc}") from None


def check_output_paths(args: argparse.Namespace) -> None:
    """Refuse ``--json``/``--html`` paths that would overwrite an input, each other or a folder."""
    inputs = {"BASELINE": args.baseline, "CURRENT": args.current}
    if getattr(args, "config", None):
        inputs["--config"] = args.config
    outputs = {k: v for k, v in (("--json", args.json), ("--html", args.html)) if v}
    for opt, out in outputs.items():
        if os.path.isdir(out):
            raise InvalidInputError(f"{opt} {out!r} is a folder; give a file path to write")
        if os.path.exists(out) and not os.path.isfile(out):
            raise InvalidInputError(
                f"{opt} {out!r} is not a regular file (a FIFO or device?); give a file path"
            )
        for label, src in inputs.items():
            if _same_file(out, src):
                raise InvalidInputError(
                    f"{opt} {out!r} is the {label} input; write the report to another path"
                )
    if len(outputs) == 2 and _same_file(args.json, args.html):
        raise InvalidInputError(
            f"--json and --html both name {args.json!r}; give two different paths"
        )


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _write(path: str, text: str, what: str) -> None:
    try:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise InvalidInputError(f"cannot write the {what} report to {path!r}: {exc}") from None
    _progress(f"wrote {what} report: {path}")


def display_name(path: str) -> str:
    """A short, telling name for an input: the file name, plus its folders for TFDV files.

    StatisticsGen names every file ``FeatureStats.pb``; ``statistics/3/Split-train`` tells more.
    """
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    if parts[-1] in ("FeatureStats.pb", "FeatureStats.pbtxt") and len(parts) >= 4:
        return "/".join(parts[-4:-1])
    return parts[-1]


def run(args: argparse.Namespace) -> int:
    """Compare BASELINE with CURRENT; print the table; return 0 (no drift) or 1 (drift).

    Every failure is an :class:`~tfx_addons_lab.errors.InvalidInputError` (exit 2, one
    line); an unexpected exception is turned into one too unless ``--verbose`` asks for the
    traceback.
    """
    _VERBOSE[0] = bool(getattr(args, "verbose", False))
    try:
        return _run(args)
    except (TfxAddonsLabError, BrokenPipeError):
        raise  # main() reports ours in one line and stops quietly when stdout's reader left
    except Exception as exc:  # noqa: BLE001 - the CLI never prints a traceback
        if getattr(args, "verbose", False):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise InvalidInputError(
            f"comparing {args.baseline!r} with {args.current!r} failed: "
            f"{type(exc).__name__}: {safe(msg)}; run with -v for the traceback and report it "
            "if the inputs are valid"
        ) from None


def _run(args: argparse.Namespace) -> int:
    if args.drift_share is not None and not 0.0 < args.drift_share <= 1.0:
        raise InvalidInputError(f"--drift-share must be in (0, 1], got {args.drift_share}")
    if args.top is not None and args.top < 0:
        raise InvalidInputError(
            f"--top must be 0 (all features) or a positive number of rows, got {args.top}"
        )
    if not getattr(args, "verbose", False):
        # Deprecation notices of TF/Google client libraries are noise for a CLI user.
        warnings.simplefilter("ignore")
    check_output_paths(args)
    config = build_config(args)  # validate options before the (slow) statistics
    beam_args = list(args.beam) if args.beam is not None else None
    engine = getattr(args, "stats_engine", None)
    if engine == NUMPY_ENGINE and beam_args is not None:
        raise InvalidInputError(
            "--stats-engine numpy computes statistics in memory; drop --beam, or use "
            "--stats-engine tfdv with --beam"
        )
    check_input_file(args.baseline, "BASELINE")
    check_input_file(args.current, "CURRENT")
    notes: List[str] = []
    baseline, current = load_inputs(args.baseline, args.current, beam_args, engine, notes)

    from tfx_addons_lab.drift.compare import compare_statistics

    start = time.perf_counter()
    result = compare_statistics(
        baseline,
        current,
        config,
        baseline_name=display_name(args.baseline),
        current_name=display_name(args.current),
    )
    _progress(f"compared {len(result.features)} features in {time.perf_counter() - start:.2f} s")
    # The comparison's own warnings (config names) are logged to stderr already; print the
    # CLI's notes (estimates) once there too. All of them are in the table and the JSON.
    for w in notes:
        _progress(f"warning: {w}")
    result.warnings.extend(notes)
    print(result.to_text_table(max_rows=args.top or None))
    if args.json:
        _write(args.json, result.to_json(), "JSON")
    if args.html:
        from tfx_addons_lab.drift.html import render_html

        _write(args.html, render_html(result), "HTML")
    return EXIT_DRIFT if result.dataset_drifted else EXIT_NO_DRIFT
