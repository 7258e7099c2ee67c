"""Small ``@component`` gates (the Python-function component pattern).

No ``from __future__ import annotations`` here: the @component decorator reads real
annotation objects.

They live in an importable module (never ``__main__``) so pipelines that use them also
compile for Kubeflow Pipelines / Vertex AI.
"""

import logging
from typing import Dict

from tfx import v1 as tfx
from tfx.types import artifact_utils, standard_artifacts

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.components import _airflow_driver
from tfx_addons_lab.errors import GateFailedError
from tfx_addons_lab.specs.artifacts import GateReport

_LOG = logging.getLogger(__name__)

GATE_REPORT_FILE = "gate_report.json"


def count_examples(examples: standard_artifacts.Examples) -> Dict[str, int]:
    """Count the serialized records of every split of an ``Examples`` artifact."""
    import tensorflow as tf

    counts: Dict[str, int] = {}
    for split in artifact_utils.decode_split_names(examples.split_names):
        split_uri = artifact_utils.get_split_uri([examples], split)
        files = io.glob(io.join(split_uri, "*"))
        n = 0
        for path in files:
            compression = "GZIP" if path.endswith(".gz") else None
            n += sum(1 for _ in tf.data.TFRecordDataset(path, compression_type=compression))
        counts[split] = n
    return counts


def write_gate_report(report: GateReport, passed: bool, reason: str, details: dict) -> None:
    """Write ``gate_report.json`` into ``report`` and set its ``passed``/``reason`` properties."""
    io.makedirs(report.uri)
    io.write_json(
        io.join(report.uri, GATE_REPORT_FILE), {"passed": passed, "reason": reason, **details}
    )
    report.set_int_custom_property("passed", int(passed))
    report.set_string_custom_property("reason", reason)


@tfx.dsl.components.component
def ExampleCountGate(
    examples: tfx.dsl.components.InputArtifact[standard_artifacts.Examples],
    report: tfx.dsl.components.OutputArtifact[GateReport],
    min_examples: tfx.dsl.components.Parameter[int] = 1,
    split: tfx.dsl.components.Parameter[str] = "",
    fail_on_violation: tfx.dsl.components.Parameter[int] = 1,
) -> None:
    """Fail the run when ExampleGen produced fewer examples than expected.

    Args:
      examples: the ``Examples`` output of an ExampleGen.
      report: output ``GateReport`` with the count per split, ``passed`` and ``reason``.
      min_examples: the least number of examples each checked split must hold.
      split: check only this split (e.g. ``train``); empty checks every split.
      fail_on_violation: 1 (default) raises ``GateFailedError`` and so fails the pipeline run;
        0 only records the violation in the report and lets the run continue.
    """
    counts = count_examples(examples)
    if split and split not in counts:
        raise GateFailedError(
            f"ExampleCountGate: split {split!r} not in the examples (splits: {sorted(counts)}); "
            "fix the 'split' parameter"
        )
    checked = {split: counts[split]} if split else counts
    short = {s: n for s, n in checked.items() if n < min_examples}
    passed = not short
    if passed:
        reason = "example counts ok: " + ", ".join(f"{s}={n}" for s, n in sorted(checked.items()))
    else:
        reason = f"too few examples (need >= {min_examples}): " + ", ".join(
            f"{s}={n}" for s, n in sorted(short.items())
        )
    write_gate_report(
        report,
        passed,
        reason,
        {
            "gate": "ExampleCountGate",
            "counts": counts,
            "min_examples": min_examples,
            "split": split or None,
        },
    )
    _LOG.info("ExampleCountGate: %s", reason)
    if not passed and fail_on_violation:
        raise GateFailedError(f"ExampleCountGate: {reason}")


@tfx.dsl.components.component
def AnomaliesGate(
    anomalies: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleAnomalies],
    report: tfx.dsl.components.OutputArtifact[GateReport],
    fail_on_anomalies: tfx.dsl.components.Parameter[int] = 1,
    splits: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Stop the run (or record and continue) when ExampleValidator found anomalies.

    Reads the ``ExampleAnomalies`` of the stock ExampleValidator (or of DriftValidator):
    ``Split-<name>/SchemaDiff.pb`` per split.

    Args:
      anomalies: the ``ExampleAnomalies`` artifact.
      report: output ``GateReport``: ``gate_report.json`` lists every anomaly (split, feature,
        severity, description); custom properties ``passed``, ``reason``, ``anomaly_count``.
      fail_on_anomalies: 1 (default) raises ``GateFailedError`` with the readable list and so
        fails the pipeline run; 0 only records them and lets the run continue.
      splits: comma-separated split names to check (e.g. ``"train,eval"``); empty checks all.
    """
    from tfx_addons_lab.gates import format_anomalies

    wanted = [s.strip() for s in splits.split(",") if s.strip()]
    try:
        found = io.read_example_anomalies(anomalies, wanted or None)
    except FileNotFoundError as exc:
        raise GateFailedError(
            f"AnomaliesGate: cannot read the anomalies at {anomalies.uri}: {exc}; connect the "
            "'anomalies' output of ExampleValidator and check the 'splits' parameter"
        ) from exc
    passed = not found
    if passed:
        reason = "no anomalies" + (f" in splits {', '.join(wanted)}" if wanted else "")
    else:
        reason = f"{len(found)} anomal{'y' if len(found) == 1 else 'ies'}: " + format_anomalies(
            found, limit=10
        )
    write_gate_report(
        report,
        passed,
        reason,
        {
            "gate": "AnomaliesGate",
            "anomalies": found,
            "splits": wanted or None,
            "anomalies_uri": anomalies.uri,
        },
    )
    report.set_int_custom_property("anomaly_count", len(found))
    _LOG.info("AnomaliesGate: %s", reason)
    if not passed and fail_on_anomalies:
        listing = "\n".join(
            f"  - {a['split']}/{a['feature']} [{a['severity']}]: {a['description']}" for a in found
        )
        raise GateFailedError(
            f"AnomaliesGate: {len(found)} data anomal{'y' if len(found) == 1 else 'ies'} "
            f"found (set fail_on_anomalies=0 to record and continue):\n{listing}"
        )


# Unique ML Metadata output names under Airflow (``report`` is also BlessingGate's output key).
ExampleCountGate.DRIVER_CLASS = _airflow_driver.UniqueOutputNamesDriver
AnomaliesGate.DRIVER_CLASS = _airflow_driver.UniqueOutputNamesDriver
