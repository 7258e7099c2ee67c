"""Data drift from TFDV statistics (pure Python: numpy, scipy, tensorflow_metadata; no TFX).

>>> from tfx_addons_lab.drift import compare_statistics, load_statistics, render_html
>>> result = compare_statistics(load_statistics("train/FeatureStats.pb"),
...                             load_statistics("serving/FeatureStats.pb"))
>>> result.dataset_drifted, result.drifted_features, result.not_evaluated_features
>>> open("drift.html", "w").write(render_html(result))

Statistics without a pipeline: ``statistics_from_dataframe`` (TFDV) or
``fast_statistics_from_dataframe`` (numpy/pyarrow, no TensorFlow), or of a CSV file of any
size in bounded memory: ``streaming_statistics_from_csv``.

Importing this package is cheap: each name is imported from its module on first use.

See ``docs/drift.md`` for the methods, the default choice, accuracy and the JSON schema.
"""

from __future__ import annotations

from tfx_addons_lab._lazy import lazy_getattr

#: public name -> (module, attribute), imported on first use (PEP 562)
_LAZY = {
    "merge_anomalies": ("tfx_addons_lab.drift.anomalies", "merge_anomalies"),
    "to_anomalies": ("tfx_addons_lab.drift.anomalies", "to_anomalies"),
    "compare_statistics": ("tfx_addons_lab.drift.compare", "compare_statistics"),
    "DriftConfig": ("tfx_addons_lab.drift.config", "DriftConfig"),
    "BaselineDist": ("tfx_addons_lab.drift.distributions", "BaselineDist"),
    "CurrentDist": ("tfx_addons_lab.drift.distributions", "CurrentDist"),
    "Distribution": ("tfx_addons_lab.drift.distributions", "Distribution"),
    "distribution_from_feature": (
        "tfx_addons_lab.drift.distributions",
        "distribution_from_feature",
    ),
    "fast_statistics_from_dataframe": (
        "tfx_addons_lab.drift.fast_stats",
        "fast_statistics_from_dataframe",
    ),
    "render_html": ("tfx_addons_lab.drift.html", "render_html"),
    "render_index": ("tfx_addons_lab.drift.html", "render_index"),
    "load_statistics": ("tfx_addons_lab.drift.io", "load_statistics"),
    "statistics_from_dataframe": ("tfx_addons_lab.drift.io", "statistics_from_dataframe"),
    "DriftMethod": ("tfx_addons_lab.drift.methods", "DriftMethod"),
    "available_methods": ("tfx_addons_lab.drift.methods", "available_methods"),
    "get_method": ("tfx_addons_lab.drift.methods", "get_method"),
    "register_method": ("tfx_addons_lab.drift.methods", "register_method"),
    "NOT_EVALUATED": ("tfx_addons_lab.drift.report", "NOT_EVALUATED"),
    "SCHEMA_VERSION": ("tfx_addons_lab.drift.report", "SCHEMA_VERSION"),
    "STATUSES": ("tfx_addons_lab.drift.report", "STATUSES"),
    "DriftResult": ("tfx_addons_lab.drift.report", "DriftResult"),
    "FeatureDrift": ("tfx_addons_lab.drift.report", "FeatureDrift"),
    "combined_summary": ("tfx_addons_lab.drift.report", "combined_summary"),
    "combined_verdict": ("tfx_addons_lab.drift.report", "combined_verdict"),
    "describe_feature": ("tfx_addons_lab.drift.report", "describe_feature"),
    "index_document": ("tfx_addons_lab.drift.report", "index_document"),
    "streaming_statistics_from_csv": (
        "tfx_addons_lab.drift.streaming",
        "streaming_statistics_from_csv",
    ),
    "StreamStatistics": ("tfx_addons_lab.drift.streaming", "StreamStatistics"),
    "BaselineMergeError": ("tfx_addons_lab.drift.merge", "BaselineMergeError"),
    "MergedStatistics": ("tfx_addons_lab.drift.merge", "MergedStatistics"),
    "merge_statistics": ("tfx_addons_lab.drift.merge", "merge_statistics"),
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = sorted(_LAZY)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
