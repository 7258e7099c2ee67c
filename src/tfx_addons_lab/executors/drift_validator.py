"""Executor of :class:`~tfx_addons_lab.components.DriftValidator`, designed for subclassing.

``Do`` only moves artifacts around; every decision is a hook method a subclass may override:

==========================  ==========================================================
``extra_methods``           class attribute: ``DriftMethod`` objects registered before
                            comparing, so a config may name them (custom metrics)
``load_statistics``         ``(artifact, split) -> DatasetFeatureStatisticsList``
``load_schema``             ``(artifact | None) -> Schema | None``
``build_config``            ``(config_dict, schema) -> DriftConfig`` (schema hints)
``merge_baselines``         ``(statistics list, names) -> (statistics, notes)``: several
                            baselines (rolling window) as one
``compare``                 ``(baseline, current, config, ...) -> DriftResult``
``write_report``            ``(results, drift_report_artifact)``: files + properties
``write_anomalies``         ``(results, anomalies_artifact, statistics_artifact)``
``check_verdict``           ``(results, drift_report_artifact, fail_on_drift)``: raise
                            ``DriftDetectedError`` to fail the run
==========================  ==========================================================

Every hook raises on failure (a ``TfxAddonsLabError`` for what the user can fix). Example: a
custom metric through a component subclass (the way TFX documents extension)::

    class MeanShiftExecutor(DriftValidatorExecutor):
        extra_methods = [DriftMethod("mean_shift", {"numeric"}, "distance", 0.5, mean_shift)]

    class MeanShiftDriftValidator(DriftValidator):
        EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(MeanShiftExecutor)

    MeanShiftDriftValidator(statistics=..., drift_config={"numeric_method": "mean_shift"})
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.drift import report as combine
from tfx_addons_lab.drift.baselines import BaselinePolicy
from tfx_addons_lab.drift.report import ComparisonResult
from tfx_addons_lab.errors import DriftDetectedError, InvalidInputError
from tfx_addons_lab.specs import drift_validator as spec

__all__ = ["ComparisonResult", "DriftValidatorExecutor"]

_LOG = logging.getLogger(__name__)


class DriftValidatorExecutor(base_executor.BaseExecutor):
    """Compares statistics splits, writes reports and anomalies, optionally fails the run."""

    #: ``tfx_addons_lab.drift.DriftMethod`` objects registered (by name, replacing any
    #: method of the same name) before the comparisons run.
    extra_methods: Sequence[Any] = ()

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        """Run every configured comparison; see the module docstring for the hooks."""
        self._log_startup(input_dict, output_dict, exec_properties)
        self.register_extra_methods()
        statistics = artifact_utils.get_single_instance(input_dict[spec.STATISTICS_KEY])
        spec.adopt_span(statistics, input_dict.get(spec.RESOLVED_CURRENT_KEY))
        # Several baselines (a rolling window) are merged per split by ``merge_baselines``.
        baselines = list(input_dict.get(spec.BASELINE_STATISTICS_KEY) or [])
        policy = BaselinePolicy.from_json(exec_properties.get(spec.BASELINE_POLICY_KEY))
        schemas = list(input_dict.get(spec.SCHEMA_KEY) or [])
        schema = self.load_schema(schemas[0] if schemas else None)
        config = self.build_config(
            json.loads(exec_properties.get(spec.DRIFT_CONFIG_KEY) or "{}"), schema
        )
        results = [
            self._run_comparison(comp, statistics, baselines, config, policy)
            for comp in json.loads(exec_properties.get(spec.COMPARISONS_KEY) or "[]")
        ]
        drift_report = artifact_utils.get_single_instance(output_dict[spec.DRIFT_REPORT_KEY])
        self.write_anomalies(
            results, artifact_utils.get_single_instance(output_dict[spec.ANOMALIES_KEY]), statistics
        )
        self.write_report(results, drift_report)
        _LOG.info("DriftValidator: %s", combine.verdict_properties(results)["summary"])
        fail_on_drift = bool(int(exec_properties.get(spec.FAIL_ON_DRIFT_KEY) or 0))
        self.check_verdict(results, drift_report, fail_on_drift)

    def _run_comparison(self, comp, statistics, baselines, config, policy) -> ComparisonResult:
        current_stats = self.load_statistics(statistics, comp[spec.CURRENT])
        own = comp[spec.BASELINE_SOURCE] == spec.SOURCE_STATISTICS
        sides = spec.Sides.of(statistics, [statistics] if own else baselines, comp, policy)
        loaded = [self.load_statistics(a, comp[spec.BASELINE]) for a in sides.baseline_artifacts]
        baseline_stats, notes = (loaded[0] if loaded else None), []
        if len(loaded) > 1:
            baseline_stats, notes = self.merge_baselines(loaded, sides.baseline_labels)
        report = self.compare(
            baseline_stats,
            current_stats,
            config,
            baseline_name=sides.baseline_name,
            current_name=sides.current_name,
        )
        return ComparisonResult(
            dict(comp), spec.comparison_name(comp), sides.annotate(report, notes)
        )

    # ------------------------------------------------------------------ hooks

    def register_extra_methods(self) -> None:
        """Register :attr:`extra_methods` in the drift method registry."""
        from tfx_addons_lab.drift import register_method

        for method in self.extra_methods:
            register_method(method)

    def load_statistics(self, artifact: types.Artifact, split: str):
        """Load the ``DatasetFeatureStatisticsList`` of ``split`` of an ExampleStatistics.

        Raises:
          InvalidInputError: the split is not in the artifact, or its file is unreadable.
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
        """Build the ``DriftConfig``; schema features with ``int_domain.is_categorical`` or a
        ``bool_domain`` are added to ``categorical_features``."""
        from tfx_addons_lab.drift import DriftConfig

        return DriftConfig.from_dict(spec.schema_hints(config_dict, schema))

    def merge_baselines(self, statistics: Sequence[Any], names: Sequence[str]):
        """Merge several baselines of one split (a rolling window) into ``(statistics,
        notes)``; notes say what is not exact. Raises ``BaselineMergeError`` (fail closed)."""
        from tfx_addons_lab.drift.merge import merge_statistics

        merged = merge_statistics(statistics, names, name=" + ".join(names))
        return merged.statistics, merged.notes

    def compare(self, baseline, current, config, baseline_name: str = "", current_name: str = ""):
        """Compare two statistics (``baseline`` may be None: no baseline) into a DriftResult."""
        from tfx_addons_lab.drift import compare_statistics

        return compare_statistics(
            baseline, current, config, baseline_name=baseline_name, current_name=current_name
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
        from tfx_addons_lab.drift import to_anomalies
        from tfx_addons_lab.drift.anomalies import merge_anomalies

        by_split: Dict[str, Any] = {}
        for result in results:
            proto = to_anomalies(result.report)
            split = result.comparison[spec.CURRENT]
            if split in by_split:
                merge_anomalies(by_split[split], proto)
            else:
                by_split[split] = proto
        anomalies.split_names = artifact_utils.encode_split_names(list(by_split))
        anomalies.span = statistics.span
        for split, proto in by_split.items():
            split_uri = artifact_utils.get_split_uri([anomalies], split)
            io.makedirs(split_uri)
            io.write_bytes(io.join(split_uri, spec.ANOMALIES_FILE), proto.SerializeToString())
        blessed = {split: 0 if proto.anomaly_info else 1 for split, proto in by_split.items()}
        anomalies.set_json_value_custom_property("blessed", blessed)

    def write_report(self, results: Sequence[ComparisonResult], drift_report: types.Artifact):
        """Write the report files and the verdict custom properties of ``drift_report``.

        One comparison: ``report.json`` and ``report.html`` at the artifact root. Several:
        ``<name>/report.json`` and ``<name>/report.html`` per comparison plus an index
        ``report.json`` (``"kind": "index"``) and ``report.html`` at the root.
        """
        from tfx_addons_lab.drift import render_html, render_index

        root = drift_report.uri
        folders = [root] if len(results) == 1 else [io.join(root, r.name) for r in results]
        for folder, result in zip(folders, results, strict=True):
            io.makedirs(folder)
            io.write_text(io.join(folder, spec.REPORT_JSON), result.report.to_json())
            io.write_text(io.join(folder, spec.REPORT_HTML), render_html(result.report))
        if len(results) > 1:
            named = [(r.name, r.comparison, r.report) for r in results]
            index = combine.index_document(named, spec.REPORT_JSON, spec.REPORT_HTML)
            io.write_json(io.join(root, spec.REPORT_JSON), index)
            io.write_text(io.join(root, spec.REPORT_HTML), render_index(index))
        for key, value in combine.verdict_properties(results).items():
            if isinstance(value, int):
                drift_report.set_int_custom_property(key, value)
            elif isinstance(value, float):
                drift_report.set_float_custom_property(key, value)
            else:
                drift_report.set_string_custom_property(key, value)

    def check_verdict(
        self,
        results: Sequence[ComparisonResult],
        drift_report: types.Artifact,
        fail_on_drift: bool,
    ) -> None:
        """Raise ``DriftDetectedError`` listing drifted features when asked to fail on drift."""
        if fail_on_drift and any(r.report.dataset_drifted for r in results):
            raise DriftDetectedError(combine.drift_failure_message(results))
