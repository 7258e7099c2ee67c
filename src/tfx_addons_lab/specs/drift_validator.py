"""Spec of ``DriftValidator``: keys, ``DriftValidatorSpec``, parameter normalisation, naming.

Shared by :mod:`tfx_addons_lab.components.drift_validator` (which builds the parameters) and
:mod:`tfx_addons_lab.executors.drift_validator` (which reads them).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.specs.artifacts import DriftReport

# Inputs, outputs and parameters.
STATISTICS_KEY = "statistics"
BASELINE_STATISTICS_KEY = "baseline_statistics"
SCHEMA_KEY = "schema"
ANOMALIES_KEY = "anomalies"
DRIFT_REPORT_KEY = "drift_report"
DRIFT_CONFIG_KEY = "drift_config"
COMPARISONS_KEY = "comparisons"
FAIL_ON_DRIFT_KEY = "fail_on_drift"

#: ``baseline_source`` values of a comparison.
SOURCE_STATISTICS = "statistics"
SOURCE_BASELINE = "baseline_statistics"
SOURCES = (SOURCE_STATISTICS, SOURCE_BASELINE)

#: File names inside the outputs.
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
ANOMALIES_FILE = "SchemaDiff.pb"  # as the stock ExampleValidator writes it


class DriftValidatorSpec(ComponentSpec):
    """Inputs, parameters and outputs of ``DriftValidator``.

    ``drift_config`` and ``comparisons`` are JSON strings (see :func:`normalize_comparisons`
    and :func:`config_json`).
    """

    PARAMETERS = {
        DRIFT_CONFIG_KEY: ExecutionParameter(type=str),
        COMPARISONS_KEY: ExecutionParameter(type=str),
        FAIL_ON_DRIFT_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        BASELINE_STATISTICS_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
        SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
    }
    OUTPUTS = {
        ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
        DRIFT_REPORT_KEY: ChannelParameter(type=DriftReport),
    }


ComparisonLike = Union[Mapping[str, Any], Sequence[str]]


def normalize_comparisons(
    comparisons: Optional[Sequence[ComparisonLike]], baseline_wired: bool
) -> List[Dict[str, str]]:
    """Validate ``comparisons`` and fill in defaults; return a list of plain dicts.

    Each comparison is ``{"current": split, "baseline": split, "baseline_source": source}``
    where ``source`` is ``"baseline_statistics"`` (the split of the baseline artifact; the
    default when a baseline is wired) or ``"statistics"`` (another split of the current
    statistics: training/serving skew; the default when no baseline is wired). A
    ``(current, baseline)`` pair is accepted as a shorthand. ``None`` means
    ``[{"current": "train", "baseline": "train", "baseline_source": "baseline_statistics"}]``.

    Raises:
      InvalidInputError: on an unknown key or source, a missing split name, or a duplicate.
    """
    default_source = SOURCE_BASELINE if baseline_wired else SOURCE_STATISTICS
    if comparisons is None:
        return [{"current": "train", "baseline": "train", "baseline_source": SOURCE_BASELINE}]
    if isinstance(comparisons, (str, bytes)) or not isinstance(comparisons, Sequence):
        raise InvalidInputError(
            f"DriftValidator comparisons must be a list, got {comparisons!r}; e.g. "
            '[{"current": "eval", "baseline": "train"}]'
        )
    if not comparisons:
        raise InvalidInputError("DriftValidator comparisons is empty; give at least one")
    out: List[Dict[str, str]] = []
    for item in comparisons:
        entry = _comparison(item, default_source)
        if entry in out:
            raise InvalidInputError(f"DriftValidator comparison {entry!r} is listed twice")
        out.append(entry)
    return out


def _comparison(item: ComparisonLike, default_source: str) -> Dict[str, str]:
    if isinstance(item, Mapping):
        unknown = set(item) - {"current", "baseline", "baseline_source"}
        if unknown:
            raise InvalidInputError(
                f"DriftValidator comparison {dict(item)!r} has unknown keys {sorted(unknown)}; "
                "allowed: current, baseline, baseline_source"
            )
        current = item.get("current")
        baseline = item.get("baseline", current)
        source = item.get("baseline_source", default_source)
    elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and len(item) == 2:
        current, baseline = item
        source = default_source
    else:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r} is neither a dict nor a (current, baseline) "
            "pair of split names"
        )
    if not isinstance(current, str) or not current or not isinstance(baseline, str):
        raise InvalidInputError(
            f"DriftValidator comparison {item!r}: 'current' and 'baseline' must be split "
            "names such as 'train' or 'eval'"
        )
    if source not in SOURCES:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r}: baseline_source must be one of {SOURCES}"
        )
    if source == SOURCE_STATISTICS and current == baseline:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r} compares split {current!r} of the current "
            "statistics with itself; use another baseline split or "
            "baseline_source='baseline_statistics'"
        )
    return {"current": current, "baseline": baseline, "baseline_source": source}


def can_have_baseline(comparisons: Sequence[Mapping[str, str]], baseline_wired: bool) -> bool:
    """Whether any comparison can ever see a baseline (a wired artifact or another split)."""
    return baseline_wired or any(c["baseline_source"] == SOURCE_STATISTICS for c in comparisons)


def comparison_name(comparison: Mapping[str, str]) -> str:
    """Folder-safe name of a comparison, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``."""
    prefix = "baseline-" if comparison["baseline_source"] == SOURCE_BASELINE else ""
    return f"{comparison['current']}-vs-{prefix}{comparison['baseline']}"


def config_json(drift_config: Any) -> str:
    """The ``drift_config`` parameter: a validated ``DriftConfig`` as sorted JSON.

    Accepts ``None`` (defaults), a ``DriftConfig``, its dict form or that dict as JSON.
    Validation (unknown methods, bad thresholds...) happens here, at pipeline-build time.
    """
    from tfx_addons_lab.drift import DriftConfig

    if drift_config is None:
        drift_config = DriftConfig()
    if isinstance(drift_config, DriftConfig):
        return json.dumps(drift_config.to_dict(), sort_keys=True)
    if isinstance(drift_config, str):
        try:
            drift_config = json.loads(drift_config)
        except ValueError as exc:
            raise InvalidInputError(
                f"DriftValidator drift_config is not valid JSON: {exc}; pass a dict or DriftConfig"
            ) from exc
    if not isinstance(drift_config, Mapping):
        raise InvalidInputError(
            f"DriftValidator drift_config must be a dict or DriftConfig, got {drift_config!r}"
        )
    return json.dumps(DriftConfig.from_dict(dict(drift_config)).to_dict(), sort_keys=True)


def artifact_span(artifact: Any, store: Any = None) -> int:
    """The span of a statistics artifact (0 when unknown).

    TFX 1.16's StatisticsGen copies ``examples.span`` (the *property*), but ExampleGen records
    the span as a *custom property*, so statistics usually carry span 0. With an MLMD
    ``store``, the span is then taken from the Examples the producing execution read.
    """
    span = _own_span(artifact.mlmd_artifact)
    if span or store is None or not artifact.id:
        return span
    from ml_metadata.proto import metadata_store_pb2

    event = metadata_store_pb2.Event
    producers = [
        e.execution_id
        for e in store.get_events_by_artifact_ids([artifact.id])
        if e.type in (event.OUTPUT, event.DECLARED_OUTPUT)
    ]
    if not producers:
        return 0
    input_ids = [
        e.artifact_id
        for e in store.get_events_by_execution_ids(producers[:1])
        if e.type in (event.INPUT, event.DECLARED_INPUT)
    ]
    return max((_own_span(a) for a in store.get_artifacts_by_id(input_ids)), default=0)


def _own_span(mlmd_artifact: Any) -> int:
    """The non-zero ``span`` property, else custom property, of an MLMD artifact; 0 if absent."""
    from tfx_addons_lab.mlmd import value_of

    for props in (mlmd_artifact.properties, mlmd_artifact.custom_properties):
        if "span" in props:
            try:
                span = int(value_of(props["span"]) or 0)
            except (TypeError, ValueError):
                span = 0
            if span:
                return span
    return 0


def split_label(artifact: Any, split: str) -> str:
    """``train@span2 (statistics 11)``; the span only when the artifact records one."""
    span = artifact_span(artifact)
    label = f"{split}@span{span}" if span else split
    return f"{label} (statistics {artifact.id})" if artifact.id else label
