"""``DriftValidator``: drift over time and training/serving skew from TFDV statistics.

Wire it after a ``StatisticsGen``; it compares splits of the current statistics with a
baseline (the statistics of a previous span, of a reference data set, or another split of
the same statistics), writes a readable report, a standard ``ExampleAnomalies`` artifact,
and can stop the pipeline run when the data drifted.

Drift over time is one line with :func:`baseline_statistics_resolver`::

    stats_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"], ...)
    previous = baseline_statistics_resolver(stats_gen)
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        drift_config={"drift_share": 0.3},
        fail_on_drift=True,
    )
    pipeline_components = [example_gen, stats_gen, previous, drift]

Training/serving skew (two splits of the same statistics) needs no baseline artifact::

    DriftValidator(statistics=stats_gen.outputs["statistics"],
                   comparisons=[{"current": "eval", "baseline": "train"}])

A custom metric: subclass the component and set ``EXECUTOR_SPEC`` to an executor with
``extra_methods`` (see :mod:`tfx_addons_lab.executors.drift_validator`).

See ``docs/drift_validator.md``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, standard_artifacts

from tfx_addons_lab.components import _airflow_driver
from tfx_addons_lab.components.baseline_resolver import baseline_statistics_resolver
from tfx_addons_lab.executors.drift_validator import DriftValidatorExecutor
from tfx_addons_lab.specs import drift_validator as spec
from tfx_addons_lab.specs.artifacts import DriftReport
from tfx_addons_lab.specs.drift_validator import ComparisonLike

__all__ = ["DriftValidator", "baseline_statistics_resolver", "register_extra_methods"]

_LOG = logging.getLogger(__name__)


def register_extra_methods(executor_class: Optional[type]) -> None:
    """Register an executor class's ``extra_methods`` now, so ``drift_config`` may name them."""
    methods = getattr(executor_class, "extra_methods", ()) if executor_class else ()
    if methods:
        from tfx_addons_lab.drift import register_method

        for method in methods:
            register_method(method)


class DriftValidator(base_component.BaseComponent):
    """Compares current statistics with a baseline; reports drift; optionally fails the run.

    Outputs:
      ``anomalies``: a standard ``ExampleAnomalies`` artifact, one ``Split-<current>/SchemaDiff.pb``
        per compared current split (``drift_skew_info`` and ``anomaly_info`` for drifted
        features), readable by ``tfdv.display_anomalies`` and by every ExampleAnomalies consumer.
      ``drift_report``: a ``tfx_addons_lab.DriftReport`` folder with ``report.json`` and
        ``report.html`` (one comparison), or one sub-folder per comparison plus an index
        ``report.json``/``report.html`` (several). Custom properties: ``dataset_drifted``
        (int 0/1, any comparison), ``drift_share`` (float, the largest over comparisons),
        ``drifted_features`` (comma-separated), ``status`` (``ok`` or ``no_baseline``),
        ``current_span`` (int, absent when unknown) and ``baseline_spans`` (e.g. ``"2012"``
        or ``"2010-2012"``; '' when unknown or no baseline). Reports name each side by split
        and span, e.g. ``train@span 2013`` vs ``train@spans 2010-2012``.
    """

    SPEC_CLASS = spec.DriftValidatorSpec
    DRIVER_CLASS = (
        _airflow_driver.UniqueOutputNamesDriver
    )  # unique ML Metadata output names under Airflow
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(DriftValidatorExecutor)

    def __init__(
        self,
        statistics: types.BaseChannel,
        baseline_statistics: Optional[types.BaseChannel] = None,
        schema: Optional[types.BaseChannel] = None,
        drift_config: Any = None,
        comparisons: Optional[Sequence[ComparisonLike]] = None,
        fail_on_drift: bool = False,
        custom_executor_spec: Optional[executor_spec.ExecutorSpec] = None,
    ) -> None:
        """Construct a DriftValidator.

        Args:
          statistics: ``ExampleStatistics`` of the current data (a ``StatisticsGen`` output).
            Ask StatisticsGen for ``num_quantiles_histogram_buckets=100`` so ``ks`` and
            ``wasserstein`` are accurate to ~0.02.
          baseline_statistics: optional ``ExampleStatistics`` to compare with, e.g.
            ``baseline_statistics_resolver(stats_gen).outputs["statistics"]`` (the previous
            span's; see its ``mode`` for same-span-last-year and rolling windows). Several
            artifacts (``mode="rolling_window"``) are merged into one baseline per split.
            When it is not wired or resolves to nothing (first run, missing span),
            comparisons against it pass with status ``no_baseline`` and the reason.
          schema: optional ``Schema``; INT features with ``int_domain.is_categorical`` (and
            features with a string/bool domain) are compared as categorical.
          drift_config: ``tfx_addons_lab.drift.DriftConfig`` or its dict form, e.g.
            ``{"numeric_method": "ks", "threshold": 0.05, "drift_share": 0.3,
            "feature_methods": {"fare": "psi"}, "exclude": ["id"]}``. Default: Evidently's
            per-feature choice of method, ``drift_share=0.5``.
          comparisons: what to compare, a list of
            ``{"current": split, "baseline": split, "baseline_source": source}`` with source
            ``"baseline_statistics"`` (a split of the baseline artifact; default when a
            baseline is wired) or ``"statistics"`` (another split of ``statistics``:
            training/serving skew, e.g. ``{"current": "eval", "baseline": "train"}``; default
            when no baseline is wired). ``(current, baseline)`` pairs are a shorthand.
            Default: ``[{"current": "train", "baseline": "train",
            "baseline_source": "baseline_statistics"}]``.
          fail_on_drift: raise ``DriftDetectedError`` (listing the drifted features) when any
            comparison finds dataset drift, which fails the pipeline run. Reports are still
            written first.
          custom_executor_spec: ``executor_spec.ExecutorClassSpec(MyExecutor)`` to run a
            subclass of ``DriftValidatorExecutor`` (custom metrics, other report writers).
            Deprecated by TFX in favour of subclassing the component and setting
            ``EXECUTOR_SPEC``; both work, and an executor's ``extra_methods`` are registered
            at build time either way, so ``drift_config`` may name them.
        """
        normalized = spec.normalize_comparisons(comparisons, baseline_statistics is not None)
        #: False when no comparison can ever see a baseline (BlessingGate refuses to rely on it).
        self.can_have_baseline = spec.can_have_baseline(normalized, baseline_statistics is not None)
        if not self.can_have_baseline:
            _LOG.warning(
                "DriftValidator: every comparison reads baseline_statistics but none is wired, "
                "so every report will say 'no_baseline'; wire baseline_statistics="
                "baseline_statistics_resolver(stats_gen).outputs['statistics'] or compare splits"
            )
        executor_class = getattr(custom_executor_spec or self.EXECUTOR_SPEC, "executor_class", None)
        register_extra_methods(executor_class)
        component_spec = spec.DriftValidatorSpec(
            statistics=statistics,
            baseline_statistics=baseline_statistics,
            schema=schema,
            resolved_current=spec.resolved_current_channel(baseline_statistics),
            drift_config=spec.config_json(drift_config),
            comparisons=json.dumps(normalized),
            fail_on_drift=int(bool(fail_on_drift)),
            baseline_policy=spec.baseline_policy_json(baseline_statistics),
            anomalies=channel.Channel(type=standard_artifacts.ExampleAnomalies),
            drift_report=channel.Channel(type=DriftReport),
        )
        super().__init__(spec=component_spec, custom_executor_spec=custom_executor_spec)
