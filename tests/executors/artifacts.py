"""Builders of real TFX artifacts (with real payload files) for direct executor tests."""

from __future__ import annotations

import json
from typing import Dict, Optional, Sequence

import numpy as np
import pandas as pd

from tfx_addons_lab import artifact_io as io


def _artifact(cls, uri: str, artifact_id: int = 0):
    art = cls()
    art.uri = uri
    if artifact_id:
        art.id = artifact_id
    io.makedirs(uri)
    return art


def frames(shift: float = 0.0, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A small table: a numeric column shifted by ``shift``, and a stable categorical one."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "temp": rng.normal(shift, 1.0, n),
            "hour": rng.integers(0, 24, n),
            "carrier": rng.choice(["AA", "DL", "UA"], n),
        }
    )


def statistics(uri: str, splits: Dict[str, pd.DataFrame], artifact_id: int = 0, span: int = 0):
    """An ``ExampleStatistics`` artifact holding real TFDV statistics of each split."""
    from tfx.types import artifact_utils, standard_artifacts

    from tfx_addons_lab.drift import statistics_from_dataframe

    art = _artifact(standard_artifacts.ExampleStatistics, uri, artifact_id)
    art.split_names = artifact_utils.encode_split_names(list(splits))
    if span:
        art.span = span
    for split, df in splits.items():
        folder = artifact_utils.get_split_uri([art], split)
        io.makedirs(folder)
        proto = statistics_from_dataframe(df, quantile_buckets=100, rank_buckets=1000)
        io.write_bytes(io.join(folder, "FeatureStats.pb"), proto.SerializeToString())
    return art


def model(
    uri: str, metrics: Optional[dict] = None, artifact_id: int = 1, raw: Optional[str] = None
):
    """A ``Model`` artifact: ``Format-Serving/`` with a small file and optional ``metrics.json``."""
    from tfx.types import standard_artifacts

    art = _artifact(standard_artifacts.Model, uri, artifact_id)
    serving = io.join(uri, "Format-Serving")
    io.makedirs(io.join(serving, "variables"))
    io.write_bytes(io.join(serving, "saved_model.pb"), b"\x08\x01" * 64)
    io.write_bytes(io.join(serving, "variables", "variables.index"), b"index")
    if metrics is not None or raw is not None:
        io.write_text(
            io.join(serving, "metrics.json"), raw if raw is not None else json.dumps(metrics)
        )
    return art


def blessing(uri: str, blessed, cls_name: str = "ModelBlessing", as_file: bool = False):
    """A ``ModelBlessing``/``InfraBlessing``: the ``blessed`` property (any value) or a file."""
    from tfx.types import standard_artifacts

    art = _artifact(getattr(standard_artifacts, cls_name), uri)
    prefix = "INFRA_" if cls_name == "InfraBlessing" else ""
    if as_file:
        io.write_text(io.join(uri, prefix + ("BLESSED" if blessed else "NOT_BLESSED")), "")
    elif isinstance(blessed, bool) or isinstance(blessed, int):
        art.set_int_custom_property(
            "blessed", int(blessed) if isinstance(blessed, bool) else blessed
        )
    elif isinstance(blessed, float):
        art.set_float_custom_property("blessed", blessed)
    else:
        art.set_string_custom_property("blessed", str(blessed))
    return art


def drift_report(uri: str, reports: Sequence[dict]):
    """A ``DriftReport`` with one ``report.json`` (or one per comparison folder)."""
    from tfx_addons_lab.specs.artifacts import DriftReport

    art = _artifact(DriftReport, uri)
    if len(reports) == 1:
        io.write_text(io.join(uri, "report.json"), json.dumps(reports[0]))
    else:
        for i, rep in enumerate(reports):
            io.makedirs(io.join(uri, f"c{i}"))
            io.write_text(io.join(uri, f"c{i}", "report.json"), json.dumps(rep))
    return art


def anomalies(uri: str, by_split: Dict[str, Sequence[str]]):
    """An ``ExampleAnomalies`` in the stock layout: ``Split-<s>/SchemaDiff.pb`` per split."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2
    from tfx.types import artifact_utils, standard_artifacts

    art = _artifact(standard_artifacts.ExampleAnomalies, uri)
    art.split_names = artifact_utils.encode_split_names(list(by_split))
    for split, features in by_split.items():
        proto = anomalies_pb2.Anomalies()
        for feature in features:
            info = proto.anomaly_info[feature]
            info.severity = anomalies_pb2.AnomalyInfo.ERROR
            info.description = f"{feature} out of domain"
        folder = io.join(uri, f"Split-{split}")
        io.makedirs(folder)
        io.write_bytes(io.join(folder, "SchemaDiff.pb"), proto.SerializeToString())
    return art


def evaluation(
    uri: str,
    candidate: Dict[str, float],
    baseline: Optional[Dict[str, float]] = None,
    baseline_location: str = "/models/champion/Format-Serving",
):
    """A ``ModelEvaluation`` with real TFMA files: ``metrics-*.tfrecord`` and ``eval_config.json``
    (``baseline_location``: the baseline's serving folder, as TFMA records ``modelLocations``)."""
    import tensorflow as tf
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2
    from tfx.types import standard_artifacts

    art = _artifact(standard_artifacts.ModelEvaluation, uri)
    record = metrics_for_slice_pb2.MetricsForSlice()
    record.slice_key.SetInParent()
    specs = [{"name": "candidate"}]
    for model_name, values in (("candidate", candidate), ("baseline", baseline or {})):
        for name, value in values.items():
            kv = record.metric_keys_and_values.add()
            kv.key.name = name
            kv.key.model_name = model_name
            kv.value.double_value.value = value
    locations = {"candidate": f"{uri}/candidate/Format-Serving"}
    if baseline is not None:
        specs.append({"name": "baseline", "isBaseline": True})
        locations["baseline"] = baseline_location
    with tf.io.TFRecordWriter(io.join(uri, "metrics-00000-of-00001.tfrecord")) as writer:
        writer.write(record.SerializeToString())
    config = {"evalConfig": {"modelSpecs": specs}, "modelLocations": locations}
    io.write_text(io.join(uri, "eval_config.json"), json.dumps(config))
    return art


def schema(uri: str, categorical: Sequence[str] = ()):
    """A ``Schema`` artifact with ``schema.pbtxt`` as SchemaGen writes it; each name in
    ``categorical`` is an INT feature with ``int_domain { is_categorical: true }``."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.types import standard_artifacts

    art = _artifact(standard_artifacts.Schema, uri)
    proto = schema_pb2.Schema()
    for name in categorical:
        feature = proto.feature.add(name=name, type=schema_pb2.INT)
        feature.int_domain.is_categorical = True
    io.write_text(io.join(uri, "schema.pbtxt"), text_format.MessageToString(proto))
    return art


def output(cls, uri: str):
    """An empty output artifact at ``uri``."""
    art = cls()
    art.uri = uri
    return art
