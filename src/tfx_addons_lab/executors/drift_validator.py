"""Executor of :class:`~tfx_addons_lab.components.DriftValidator`, designed for subclassing.

``Do`` only moves artifacts around; every decision is a hook method a subclass may override:

==========================  ==========================================================
``extra_methods``           class attribute: ``DriftMethod`` objects registered before
                            comparing, so a config may name them (custom metrics)
``load_statistics``         ``(artifact, split) -> DatasetFeatureStatisticsList``
``load_schema``             ``(artifact | None) -> Schema | None``
``build_config``            ``(config_dict, schema) -> DriftConfig`` (schema hints)
``compare``                 ``(baseline, current, config, ...) -> DriftReport``
``write_report``            ``(results, drift_report_artifact)``: files + properties
``write_anomalies``         ``(results, anomalies_artifact, statistics_artifact)``
``check_verdict``           ``(results, drift_report_artifact, fail_on_drift)``: raise
                            ``DriftDetectedError`` to fail the run
==========================  ==========================================================

Example: a custom metric through a subclass::

    class MeanShiftExecutor(DriftValidatorExecutor):
        extra_methods = [DriftMethod("mean_shift", {"numeric"}, "distance", 0.5, mean_shift)]

    DriftValidator(statistics=..., drift_config={"numeric_method": "mean_shift"},
                   custom_executor_spec=executor_spec.ExecutorClassSpec(MeanShiftExecutor))
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from tfx_addons_lab.errors import DriftDetectedError, InvalidInputError

_LOG = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
#: File name of an anomalies split, as the stock ExampleValidator writes it.
ANOMALIES_FILE = "SchemaDiff.pb"
#: Schema version of the index ``report.json`` written when there are several comparisons.
INDEX_SCHEMA_VERSION = 1

STATUS_OK = "ok"
STATUS_NO_BASELINE = "no_baseline"


@dataclass
class ComparisonResult:
    """One comparison and its report.

    Attributes:
      comparison: ``{"current", "baseline", "baseline_source"}`` as configured.
      name: folder-safe name, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``.
      report: the ``tfx_addons_lab.drift.DriftReport``.
    """

    comparison: Dict[str, str]
    name: str
    report: Any


def _split_label(artifact: types.Artifact, split: str) -> str:
    """``train@span2 (statistics 11)``; the span only when the artifact records one."""
    from tfx_addons_lab.components.drift_validator import artifact_span

    span = artifact_span(artifact)
    label = f"{split}@span{span}" if span else split
    return f"{label} (statistics {artifact.id})" if artifact.id else label


def _report_status(report) -> str:
    return getattr(report, "status", STATUS_OK) or STATUS_OK


class DriftValidatorExecutor(base_executor.BaseExecutor):
    """Compares statistics splits, writes reports and anomalies, optionally fails the run.

    Subclass it and override any hook; wire the subclass with
    ``DriftValidator(..., custom_executor_spec=executor_spec.ExecutorClassSpec(MyExecutor))``.
    The subclass must live in an importable module (not ``__main__``).
    """

    #: ``tfx_addons_lab.drift.DriftMethod`` objects registered (by name, replacing any
    #: method of the same name) before the comparisons run.
    extra_methods: Sequence[Any] = ()

    # ------------------------------------------------------------------ TFX plumbing

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        """Run every configured comparison; see the module docstring for the hooks."""
        from tfx_addons_lab.components.drift_validator import (
            SOURCE_STATISTICS,
            comparison_name,
        )

        self._log_startup(input_dict, output_dict, exec_properties)
        self.register_extra_methods()

        statistics = artifact_utils.get_single_instance(input_dict["statistics"])
        baselines = list(input_dict.get("baseline_statistics") or [])
        # A resolver may hand over several candidates; the newest is the baseline.
        baseline = max(baselines, key=lambda a: a.id) if baselines else None
        schema_list = list(input_dict.get("schema") or [])
        schema = self.load_schema(schema_list[0] if schema_list else None)

        config_dict = json.loads(exec_properties.get("drift_config") or "{}")
        config = self.build_config(config_dict, schema)
        comparisons = json.loads(exec_properties.get("comparisons") or "[]")
        fail_on_drift = bool(int(exec_properties.get("fail_on_drift") or 0))

        results: List[ComparisonResult] = []
        for comp in comparisons:
            current_stats = self.load_statistics(statistics, comp["current"])
            current_name = _split_label(statistics, comp["current"])
            if comp["baseline_source"] == SOURCE_STATISTICS:
                baseline_stats = self.load_statistics(statistics, comp["baseline"])
                baseline_name = _split_label(statistics, comp["baseline"])
            elif baseline is not None:
                baseline_stats = self.load_statistics(baseline, comp["baseline"])
                baseline_name = _split_label(baseline, comp["baseline"])
            else:
                baseline_stats, baseline_name = None, "no baseline"
            report = self.compare(
                baseline_stats,
                current_stats,
                config,
                baseline_name=baseline_name,
                current_name=current_name,
            )
            results.append(ComparisonResult(dict(comp), comparison_name(comp), report))

        anomalies = artifact_utils.get_single_instance(output_dict["anomalies"])
        drift_report = artifact_utils.get_single_instance(output_dict["drift_report"])
        self.write_anomalies(results, anomalies, statistics)
        self.write_report(results, drift_report)
        _LOG.info("DriftValidator: %s", self.summary_line(results))
        self.check_verdict(results, drift_report, fail_on_drift)

    # ------------------------------------------------------------------ hooks

    def register_extra_methods(self) -> None:
        """Register :attr:`extra_methods` in the drift method registry."""
        from tfx_addons_lab.drift import register_method

        for method in self.extra_methods:
            register_method(method)

    def load_statistics(self, artifact: types.Artifact, split: str):
        """Load the ``DatasetFeatureStatisticsList`` of ``split`` of an ExampleStatistics.

        Raises:
          InvalidInputError: the split is not in the artifact (names the available splits).
        """
        from tfx.components.statistics_gen import stats_artifact_utils

        splits = artifact_utils.decode_split_names(artifact.split_names)
        if split not in splits:
            raise InvalidInputError(
                f"DriftValidator: split {split!r} is not in the statistics artifact "
                f"{artifact.uri} (splits: {splits}); fix the 'comparisons' parameter"
            )
        try:
            return stats_artifact_utils.load_statistics(artifact, split).proto()
        except Exception as exc:  # noqa: BLE001 - name the file whatever TFDV raised
            stats_dir = artifact_utils.get_split_uri([artifact], split)
            raise InvalidInputError(
                f"DriftValidator: cannot read the statistics of split {split!r} in {stats_dir}: "
                f"{exc}"
            ) from exc

    def load_schema(self, artifact: Optional[types.Artifact]):
        """Load the ``Schema`` proto of the optional schema input (``None`` if not wired)."""
        if artifact is None:
            return None
        from tfx.utils import io_utils

        return io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(artifact.uri))

    def build_config(self, config_dict: Dict[str, Any], schema=None):
        """Build the ``DriftConfig``; with a schema, categorical INT features are categorical.

        Features with ``int_domain.is_categorical`` or a ``bool_domain`` in the schema are
        added to ``categorical_features``.
        """
        from tfx_addons_lab.drift import DriftConfig

        config_dict = dict(config_dict)
        if schema is not None:
            hinted = set(config_dict.get("categorical_features") or [])
            for feature in schema.feature:
                if (
                    feature.HasField("int_domain") and feature.int_domain.is_categorical
                ) or feature.HasField("bool_domain"):
                    hinted.add(feature.name)
            if hinted:
                config_dict["categorical_features"] = sorted(hinted)
        return DriftConfig.from_dict(config_dict)

    def compare(self, baseline, current, config, baseline_name: str = "", current_name: str = ""):
        """Compare two statistics (``baseline`` may be None: no baseline) into a DriftReport."""
        from tfx_addons_lab.drift import compare_statistics

        return compare_statistics(
            baseline,
            current,
            config,
            baseline_name=baseline_name,
            current_name=current_name,
        )

    def write_anomalies(
        self,
        results: Sequence[ComparisonResult],
        anomalies: types.Artifact,
        statistics: types.Artifact,
    ) -> None:
        """Write ``Split-<current>/SchemaDiff.pb`` (an ``Anomalies`` proto) per current split.

        Two comparisons with the same current split are merged into one proto. Also sets the
        ``blessed`` JSON custom property (split -> 1 when no feature drifted) like the stock
        ExampleValidator.
        """
        import tensorflow as tf
        from tfx.utils import writer_utils

        from tfx_addons_lab.drift import to_anomalies

        by_split: Dict[str, Any] = {}
        for result in results:
            proto = to_anomalies(result.report)
            split = result.comparison["current"]
            if split in by_split:
                _merge_anomalies(by_split[split], proto)
            else:
                by_split[split] = proto
        anomalies.split_names = artifact_utils.encode_split_names(list(by_split))
        anomalies.span = statistics.span
        blessed = {}
        for split, proto in by_split.items():
            split_uri = artifact_utils.get_split_uri([anomalies], split)
            tf.io.gfile.makedirs(split_uri)
            writer_utils.write_anomalies(os.path.join(split_uri, ANOMALIES_FILE), proto)
            blessed[split] = 0 if proto.anomaly_info else 1
        anomalies.set_json_value_custom_property("blessed", blessed)

    def write_report(self, results: Sequence[ComparisonResult], drift_report: types.Artifact):
        """Write the report files and the verdict custom properties of ``drift_report``.

        One comparison: ``report.json`` and ``report.html`` at the artifact root. Several:
        ``<name>/report.json`` and ``<name>/report.html`` per comparison plus an index
        ``report.json`` (``"kind": "index"``) and ``report.html`` at the root.
        """
        import tensorflow as tf

        from tfx_addons_lab.drift import render_html

        root = drift_report.uri
        tf.io.gfile.makedirs(root)
        if len(results) == 1:
            _write_text(os.path.join(root, REPORT_JSON), results[0].report.to_json())
            _write_text(os.path.join(root, REPORT_HTML), render_html(results[0].report))
        else:
            for result in results:
                folder = os.path.join(root, result.name)
                tf.io.gfile.makedirs(folder)
                _write_text(os.path.join(folder, REPORT_JSON), result.report.to_json())
                _write_text(os.path.join(folder, REPORT_HTML), render_html(result.report))
            index = self.index(results)
            _write_text(os.path.join(root, REPORT_JSON), json.dumps(index, indent=2))
            _write_text(os.path.join(root, REPORT_HTML), _index_html(index))
        verdict = self.verdict(results)
        drift_report.set_int_custom_property("dataset_drifted", int(verdict["dataset_drifted"]))
        drift_report.set_float_custom_property("drift_share", float(verdict["drift_share"]))
        drift_report.set_string_custom_property(
            "drifted_features", ",".join(verdict["drifted_features"])
        )
        drift_report.set_string_custom_property("status", verdict["status"])
        drift_report.set_int_custom_property("num_comparisons", len(results))
        drift_report.set_string_custom_property("summary", self.summary_line(results))

    def check_verdict(
        self,
        results: Sequence[ComparisonResult],
        drift_report: types.Artifact,
        fail_on_drift: bool,
    ) -> None:
        """Raise ``DriftDetectedError`` listing drifted features when asked to fail on drift."""
        if not fail_on_drift:
            return
        drifted = [r for r in results if r.report.dataset_drifted]
        if not drifted:
            return
        parts = []
        for r in drifted:
            rep = r.report
            features = ", ".join(_describe_feature(f) for f in rep.features if f.drifted)
            parts.append(
                f"{r.name} ({rep.current_name} vs {rep.baseline_name}): "
                f"{len(rep.drifted_features)} of {len(rep.features)} features drifted "
                f"(share {rep.drift_share:.0%} >= {rep.drift_share_threshold:.0%}): {features}"
            )
        raise DriftDetectedError(
            "DriftValidator: dataset drift detected: "
            + "; ".join(parts)
            + ". Set fail_on_drift=False to record drift (report.json/report.html) without "
            "failing the run."
        )

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def verdict(results: Sequence[ComparisonResult]) -> Dict[str, Any]:
        """The combined verdict: any drifted, max share, union of drifted features, status."""
        names: List[str] = []
        for r in results:
            for name in r.report.drifted_features:
                if name not in names:
                    names.append(name)
        statuses = [_report_status(r.report) for r in results]
        all_no_baseline = bool(results) and all(s == STATUS_NO_BASELINE for s in statuses)
        return {
            "dataset_drifted": any(bool(r.report.dataset_drifted) for r in results),
            "drift_share": max((float(r.report.drift_share or 0.0) for r in results), default=0.0),
            "drifted_features": names,
            "status": STATUS_NO_BASELINE if all_no_baseline else STATUS_OK,
        }

    def index(self, results: Sequence[ComparisonResult]) -> Dict[str, Any]:
        """The index ``report.json`` of several comparisons (schema version 1)."""
        verdict = self.verdict(results)
        return {
            "kind": "index",
            "schema_version": INDEX_SCHEMA_VERSION,
            **verdict,
            "comparisons": [
                {
                    "name": r.name,
                    **r.comparison,
                    "baseline_name": r.report.baseline_name,
                    "current_name": r.report.current_name,
                    "dataset_drifted": bool(r.report.dataset_drifted),
                    "drift_share": float(r.report.drift_share or 0.0),
                    "drift_share_threshold": float(r.report.drift_share_threshold),
                    "drifted_features": list(r.report.drifted_features),
                    "status": _report_status(r.report),
                    "summary": r.report.summary_line(),
                    "report": f"{r.name}/{REPORT_JSON}",
                    "html": f"{r.name}/{REPORT_HTML}",
                }
                for r in results
            ],
        }

    @staticmethod
    def summary_line(results: Sequence[ComparisonResult]) -> str:
        """One line: each comparison's summary, separated by `` | ``."""
        return " | ".join(f"{r.name}: {r.report.summary_line()}" for r in results)


def _describe_feature(feature) -> str:
    """``temp (wasserstein 4.49 >= 0.1)`` or ``fare (removed)``."""
    if feature.method and feature.value is not None:
        rule = "<" if feature.kind == "p_value" else ">="
        return f"{feature.name} ({feature.method} {feature.value:.3g} {rule} {feature.threshold:g})"
    return f"{feature.name} ({feature.status})"


def _write_text(path: str, text: str) -> None:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "w") as f:
        f.write(text)


def _merge_anomalies(into, other) -> None:
    """Merge ``other`` into ``into`` (Anomalies protos of the same split)."""
    for name, info in other.anomaly_info.items():
        if name in into.anomaly_info:
            target = into.anomaly_info[name]
            target.reason.extend(info.reason)
            if info.severity > target.severity:
                target.severity = info.severity
            target.short_description = "; ".join(
                s for s in (target.short_description, info.short_description) if s
            )
            target.description = " ".join(s for s in (target.description, info.description) if s)
        else:
            into.anomaly_info[name].CopyFrom(info)
    into.drift_skew_info.extend(other.drift_skew_info)
    if other.HasField("dataset_anomaly_info"):
        into.dataset_anomaly_info.reason.extend(other.dataset_anomaly_info.reason)


def _index_html(index: Dict[str, Any]) -> str:
    """A small self-contained page linking the per-comparison reports."""
    esc = html.escape
    verdict = "DATASET DRIFT" if index["dataset_drifted"] else "no dataset drift"
    if index["status"] == STATUS_NO_BASELINE:
        verdict = "no baseline"
    rows = []
    for c in index["comparisons"]:
        state = (
            "no baseline"
            if c["status"] == STATUS_NO_BASELINE
            else ("DRIFT" if c["dataset_drifted"] else "ok")
        )
        rows.append(
            "<tr>"
            f'<td><a href="{esc(c["html"])}">{esc(c["name"])}</a></td>'
            f"<td>{esc(c['current_name'])}</td><td>{esc(c['baseline_name'])}</td>"
            f"<td>{esc(state)}</td><td>{c['drift_share']:.0%}</td>"
            f"<td>{esc(', '.join(c['drifted_features']))}</td>"
            "</tr>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Drift reports</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>{esc(verdict)}</h1>"
        f"<p>Largest drift share {index['drift_share']:.0%} over "
        f"{len(index['comparisons'])} comparisons.</p>"
        "<table><tr><th>comparison</th><th>current</th><th>baseline</th><th>verdict</th>"
        "<th>drift share</th><th>drifted features</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
