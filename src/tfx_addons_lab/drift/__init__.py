"""Data drift from TFDV statistics (pure Python: numpy, scipy, tensorflow_metadata; no TFX).

>>> from tfx_addons_lab.drift import compare_statistics, load_statistics, render_html
>>> result = compare_statistics(load_statistics("train/FeatureStats.pb"),
...                             load_statistics("serving/FeatureStats.pb"))
>>> result.dataset_drifted, result.drifted_features, result.not_evaluated_features
>>> open("drift.html", "w").write(render_html(result))

Statistics without a pipeline: ``statistics_from_dataframe`` (TFDV) or
``fast_statistics_from_dataframe`` (numpy/pyarrow, no TensorFlow).

See ``docs/drift.md`` for the methods, the default choice, accuracy and the JSON schema.
"""

from __future__ import annotations

from tfx_addons_lab.drift.anomalies import merge_anomalies, to_anomalies
from tfx_addons_lab.drift.compare import compare_statistics
from tfx_addons_lab.drift.config import DriftConfig
from tfx_addons_lab.drift.distributions import (
    BaselineDist,
    CurrentDist,
    Distribution,
    distribution_from_feature,
)
from tfx_addons_lab.drift.fast_stats import fast_statistics_from_dataframe
from tfx_addons_lab.drift.html import render_html, render_index
from tfx_addons_lab.drift.io import load_statistics, statistics_from_dataframe
from tfx_addons_lab.drift.merge import BaselineMergeError, MergedStatistics, merge_statistics
from tfx_addons_lab.drift.methods import (
    DriftMethod,
    available_methods,
    get_method,
    register_method,
)
from tfx_addons_lab.drift.report import (
    NOT_EVALUATED,
    SCHEMA_VERSION,
    STATUSES,
    DriftResult,
    FeatureDrift,
    combined_summary,
    combined_verdict,
    describe_feature,
    index_document,
)

__all__ = [
    "BaselineDist",
    "BaselineMergeError",
    "MergedStatistics",
    "merge_statistics",
    "CurrentDist",
    "Distribution",
    "DriftConfig",
    "DriftMethod",
    "DriftResult",
    "FeatureDrift",
    "NOT_EVALUATED",
    "SCHEMA_VERSION",
    "STATUSES",
    "available_methods",
    "combined_summary",
    "combined_verdict",
    "describe_feature",
    "index_document",
    "compare_statistics",
    "distribution_from_feature",
    "fast_statistics_from_dataframe",
    "get_method",
    "load_statistics",
    "merge_anomalies",
    "register_method",
    "render_html",
    "render_index",
    "statistics_from_dataframe",
    "to_anomalies",
]
