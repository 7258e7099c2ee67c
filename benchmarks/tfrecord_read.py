"""Our TFRecord reader (``tfx_addons_lab.drift.io``) against TensorFlow's and tfx_bsl's, in one run.

Two reads the package does, on files TensorFlow writes (``tf.io.TFRecordWriter``):

* ``statistics``: a ``DatasetFeatureStatisticsList`` TFRecord with ``--features`` features
  (numeric stats, standard and quantile histograms, as StatisticsGen writes), read and parsed
  into the proto: ours is ``load_statistics`` (framing + CRC-32C of every length header);
* ``header``: the first record of a GZIP-compressed TFRecord of 10,000 ``tf.Example``s (what
  ``tfx-addons-lab drift`` reads to tell a tf.Example file from statistics): ours is
  ``first_tfrecord``.

Readers, each in a fresh process: ``ours`` (``google_crc32c`` when importable, as shipped),
``ours_python_crc`` (the pure-Python CRC-32C fallback), ``tf_data`` (``tf.data.TFRecordDataset``),
``tfdv`` (``tfdv.load_statistics``, statistics only) and ``tfx_bsl``
(``RawTfRecordTFXIO(...).TensorFlowDataset``, tf.data underneath). ``cold_s`` is the whole
process (interpreter, imports, one read), median of ``--repeats`` processes; ``warm_s`` the
median of 20 further reads in that process. Ratios are against ``ours`` (>1: slower than ours).
A CRC-32C micro-benchmark (8-byte header, 1 MiB) compares the two CRC implementations.

Usage::

    .venv/bin/python benchmarks/tfrecord_read.py [--repeats 5] [--features 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics as stats
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "tfrecord_read.json"
WARM = 20

_MAKE = """
import sys
import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2

folder, n_features = sys.argv[1], int(sys.argv[2])
stats = statistics_pb2.DatasetFeatureStatisticsList()
ds = stats.datasets.add(name="train", num_examples=100000)
for i in range(n_features):
    f = ds.features.add()
    f.path.step.append(f"feature_{i}")
    f.type = statistics_pb2.FeatureNameStatistics.FLOAT
    num = f.num_stats
    num.common_stats.num_non_missing = 100000
    num.mean, num.std_dev, num.min, num.max, num.median = 0.1 * i, 1.0, -4.0, 4.0 + i, 0.0
    for kind in (statistics_pb2.Histogram.STANDARD, statistics_pb2.Histogram.QUANTILES):
        h = num.histograms.add(type=kind)
        for b in range(10):
            h.buckets.add(low_value=b - 5.0, high_value=b - 4.0, sample_count=10000.0 + b)
with tf.io.TFRecordWriter(f"{folder}/stats.tfrecord") as w:
    w.write(stats.SerializeToString())
options = tf.io.TFRecordOptions(compression_type="GZIP")
with tf.io.TFRecordWriter(f"{folder}/examples.tfrecord.gz", options) as w:
    for i in range(10000):
        ex = tf.train.Example()
        for j in range(10):
            ex.features.feature[f"x{j}"].float_list.value.append(i * 0.5 + j)
        ex.features.feature["c"].bytes_list.value.append(b"ABCDEFG"[i % 7 : i % 7 + 1])
        w.write(ex.SerializeToString())
"""

#: setup (imports; timed in cold) and one read returning a size to check, per reader and task.
_READERS = {
    ("statistics", "ours"): (
        "from tfx_addons_lab.drift.io import load_statistics",
        "len(load_statistics(PATH).datasets[0].features)",
    ),
    ("statistics", "ours_python_crc"): (
        "from tfx_addons_lab.drift import io\n"
        "io._crc32c_impl = io._crc32c_python\n"
        "load_statistics = io.load_statistics",
        "len(load_statistics(PATH).datasets[0].features)",
    ),
    ("statistics", "tf_data"): (
        "import tensorflow as tf\nfrom tensorflow_metadata.proto.v0 import statistics_pb2\n"
        "def read(path):\n"
        "    out = statistics_pb2.DatasetFeatureStatisticsList()\n"
        "    for rec in tf.data.TFRecordDataset(path):\n"
        "        one = statistics_pb2.DatasetFeatureStatisticsList()\n"
        "        one.ParseFromString(rec.numpy())\n"
        "        out.datasets.extend(one.datasets)\n"
        "    return out",
        "len(read(PATH).datasets[0].features)",
    ),
    ("statistics", "tfdv"): (
        "import tensorflow_data_validation as tfdv",
        "len(tfdv.load_statistics(PATH).datasets[0].features)",
    ),
    ("statistics", "tfx_bsl"): (
        "from tfx_bsl.tfxio import dataset_options, raw_tf_record\n"
        "from tensorflow_metadata.proto.v0 import statistics_pb2\n"
        "def read(path):\n"
        "    io = raw_tf_record.RawTfRecordTFXIO(path, 'raw', ['bench'])\n"
        "    opts = dataset_options.TensorFlowDatasetOptions(batch_size=1, shuffle=False,"
        " num_epochs=1)\n"
        "    out = statistics_pb2.DatasetFeatureStatisticsList()\n"
        "    for batch in io.TensorFlowDataset(opts):\n"
        "        for rec in batch['raw'].numpy():\n"
        "            one = statistics_pb2.DatasetFeatureStatisticsList()\n"
        "            one.ParseFromString(rec)\n"
        "            out.datasets.extend(one.datasets)\n"
        "    return out",
        "len(read(PATH).datasets[0].features)",
    ),
    ("header", "ours"): (
        "from tfx_addons_lab.drift.io import first_tfrecord",
        "len(first_tfrecord(PATH))",
    ),
    ("header", "ours_python_crc"): (
        "from tfx_addons_lab.drift import io\nio._crc32c_impl = io._crc32c_python\n"
        "first_tfrecord = io.first_tfrecord",
        "len(first_tfrecord(PATH))",
    ),
    ("header", "tf_data"): (
        "import tensorflow as tf",
        "len(next(iter(tf.data.TFRecordDataset(PATH, compression_type='GZIP').take(1))).numpy())",
    ),
    ("header", "tfx_bsl"): (
        "from tfx_bsl.tfxio import dataset_options, raw_tf_record",
        "len(next(iter(raw_tf_record.RawTfRecordTFXIO(PATH, 'raw', ['b']).TensorFlowDataset("
        "dataset_options.TensorFlowDatasetOptions(batch_size=1, shuffle=False, num_epochs=1)"
        ")))['raw'].numpy()[0])",
    ),
}

_CHILD = """
import time
t0 = time.perf_counter()
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
PATH = sys.argv[1]
{setup}
size = {read}
t1 = time.perf_counter()
warm = []
for _ in range({warm}):
    s = time.perf_counter()
    {read}
    warm.append(time.perf_counter() - s)
warm.sort()
print(json.dumps({{"size": size, "in_process_first_s": t1 - t0, "warm_s": warm[len(warm) // 2]}}))
"""


def _run(task: str, reader: str, path: Path) -> dict:
    setup, read = _READERS[(task, reader)]
    code = _CHILD.format(setup=setup, read=read, warm=WARM)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{task}/{reader} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**out, "cold_s": wall}


def _crc_micro() -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from tfx_addons_lab.drift import io

    out = {}
    try:
        import google_crc32c

        impls = {"python": io._crc32c_python, "google_crc32c": google_crc32c.value}
        out["google_crc32c_implementation"] = google_crc32c.implementation
    except ImportError:
        impls = {"python": io._crc32c_python}
    for label, data, n in (("header_8B", os.urandom(8), 20000), ("1MiB", os.urandom(1 << 20), 3)):
        for name, fn in impls.items():
            start = time.perf_counter()
            for _ in range(n):
                fn(data)
            out[f"{label}_{name}_s"] = (time.perf_counter() - start) / n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--features", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tfrecord-bench-") as tmp:
        folder = Path(tmp)
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_MAKE), tmp, str(args.features)],
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        files = {"statistics": folder / "stats.tfrecord", "header": folder / "examples.tfrecord.gz"}
        samples: dict = {key: [] for key in _READERS}
        for _ in range(args.repeats):  # rotate readers so load drifts hit all alike
            for key in _READERS:
                samples[key].append(_run(key[0], key[1], files[key[0]]))
        floor = [_run_floor() for _ in range(args.repeats)]
        results: dict = {}
        for (task, reader), runs in samples.items():
            sizes = {r["size"] for r in runs}
            assert len(sizes) == 1, (task, reader, sizes)
            results.setdefault(task, {})[reader] = {
                "size": sizes.pop(),
                "cold_s": stats.median(r["cold_s"] for r in runs),
                "warm_s": stats.median(r["warm_s"] for r in runs),
            }
        for task, readers in results.items():
            sizes = {r["size"] for r in readers.values()}
            assert len(sizes) == 1, f"{task}: readers disagree: {readers}"
            base = readers["ours"]
            for r in readers.values():
                r["cold_ratio"] = r["cold_s"] / base["cold_s"]
                r["warm_ratio"] = r["warm_s"] / base["warm_s"]
        doc = {
            "features": args.features,
            "repeats": args.repeats,
            "file_bytes": {k: p.stat().st_size for k, p in files.items()},
            "python_c_pass_s": stats.median(floor),
            "load_average": os.getloadavg()[0],
            "results": results,
            "crc32c": _crc_micro(),
            "command": "benchmarks/tfrecord_read.py " + " ".join(sys.argv[1:]),
        }
    for task, readers in doc["results"].items():
        print(f"{task} ({doc['file_bytes'][task]:,} bytes)")
        print(f"  {'reader':<16}{'cold s':>9}{'x ours':>8}{'warm ms':>10}{'x ours':>8}")
        for name, r in readers.items():
            print(
                f"  {name:<16}{r['cold_s']:>9.3f}{r['cold_ratio']:>8.1f}"
                f"{r['warm_s'] * 1e3:>10.3f}{r['warm_ratio']:>8.1f}"
            )
    print(f"python -c pass: {doc['python_c_pass_s']:.3f} s")
    print("crc32c:", json.dumps(doc["crc32c"], indent=1))
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written {OUT.relative_to(REPO)}")


def _run_floor() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
