"""A :class:`~tfx_addons_lab.drift.DriftResult` as a TFDV ``Anomalies`` proto.

Standard consumers of ExampleAnomalies (``tfdv.display_anomalies``, ``tfdv.load_anomalies_*``,
ExampleValidator-style checks) can read the result:

* ``anomaly_info[name]`` for every drifted feature: severity ERROR and one reason whose type
  is the closest TFDV anomaly type (``COMPARATOR_L_INFTY_HIGH`` for ``l_infinity``,
  ``COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH`` for ``jensen_shannon``, ``SCHEMA_NEW_COLUMN``
  / ``SCHEMA_MISSING_COLUMN`` for added/removed features, ``UNEXPECTED_DATA_TYPE`` for a type
  change, ``COMPARATOR_TREATMENT_DATA_MISSING`` / ``COMPARATOR_CONTROL_DATA_MISSING`` for a
  side without values, ``CUSTOM_VALIDATION`` for every other method) and a description naming
  our method, value and threshold.
* ``drift_skew_info`` for every measured feature, with one ``drift_measurements`` entry:
  ``L_INFTY`` for ``l_infinity``, ``JENSEN_SHANNON_DIVERGENCE`` for ``jensen_shannon`` (value
  and threshold squared: TFDV measures the divergence, we report the distance), else
  ``UNKNOWN`` with our value and threshold.
* ``anomaly_info[name]`` for every ``not_evaluated`` feature when the result fails closed
  (``on_not_evaluated="fail"``): severity ERROR, ``CUSTOM_VALIDATION``, "Drift not
  evaluated" and the reason, so consumers that bless on "no anomaly_info" do not bless.
* ``dataset_anomaly_info`` when the data set as a whole drifted (fail closed included).
"""

from __future__ import annotations

from tfx_addons_lab import textfmt
from tfx_addons_lab.drift.report import NOT_EVALUATED, DriftResult, FeatureDrift


def _reason_type(f: FeatureDrift, a):
    T = a.AnomalyInfo.Type
    if f.status == "added":
        return T.SCHEMA_NEW_COLUMN
    if f.status == "removed":
        return T.SCHEMA_MISSING_COLUMN
    if f.status == "type_changed":
        return T.UNEXPECTED_DATA_TYPE
    if f.status == "all_missing":
        if not f.current or f.current.get("count", 0) in (0, None):
            return T.COMPARATOR_TREATMENT_DATA_MISSING
        return T.COMPARATOR_CONTROL_DATA_MISSING
    if f.method == "l_infinity":
        return T.COMPARATOR_L_INFTY_HIGH
    if f.method == "jensen_shannon":
        return T.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH
    return T.CUSTOM_VALIDATION


def _describe(f: FeatureDrift, sides: str = "baseline and current") -> tuple:
    if f.method is None:
        short = {
            "added": "New column (drift)",
            "removed": "Column dropped (drift)",
            "type_changed": "Type changed (drift)",
            "all_missing": "No values on one side (drift)",
            "constant": "Constant value changed (drift)",
        }.get(f.status, "Drift")
        return short, f.note or short
    rule = "<" if f.kind == "p_value" else ">="
    what = "p-value" if f.kind == "p_value" else "distance"
    shown = f.p_value_adjusted if f.p_value_adjusted is not None else f.value
    short = f"High {f.method} drift"
    long = (
        f"The {f.method} {what} between {sides} is {shown:.6g} ({rule} threshold {f.threshold:.6g})"
    )
    if f.p_value_adjusted is not None:
        long += f"; raw p-value {f.p_value:.6g}, adjusted"
    if f.note:
        long += f". {f.note}"
    return short, long


def _measurement(f: FeatureDrift, a):
    M = a.DriftSkewInfo.Measurement
    m = M()
    if f.method == "l_infinity":
        m.type, m.value, m.threshold = M.L_INFTY, f.value, f.threshold
    elif f.method == "jensen_shannon":
        m.type = M.JENSEN_SHANNON_DIVERGENCE
        m.value, m.threshold = f.value**2, f.threshold**2
    else:
        m.type = M.UNKNOWN
        m.value = f.value
        m.threshold = f.threshold
    return m


def to_anomalies(report: DriftResult):
    """Convert a report to ``tensorflow_metadata.proto.v0.anomalies_pb2.Anomalies``."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2 as a

    out = a.Anomalies()
    if report.status == "no_baseline":
        return out
    # Both sides named by split and span, e.g. ``train@spans 2010-2012 and train@span 2013``.
    sides = f"{textfmt.safe(report.baseline_name)} and {textfmt.safe(report.current_name)}"
    for f in report.features:
        steps = [f.name]
        if f.method is not None and f.value is not None and f.threshold is not None:
            info = out.drift_skew_info.add()
            info.path.step.extend(steps)
            info.drift_measurements.append(_measurement(f, a))
        if f.status == NOT_EVALUATED and report.fails_closed:
            entry = out.anomaly_info[f.name]
            entry.path.step.extend(steps)
            entry.severity = a.AnomalyInfo.ERROR
            short = "Drift not evaluated"
            long = f"Drift could not be evaluated ({f.note or 'no finite value'}); failing closed"
            entry.short_description = short
            entry.description = long
            reason = entry.reason.add()
            reason.type = a.AnomalyInfo.CUSTOM_VALIDATION
            reason.short_description = short
            reason.description = long
        if f.drifted:
            entry = out.anomaly_info[f.name]
            entry.path.step.extend(steps)
            entry.severity = a.AnomalyInfo.ERROR
            short, long = _describe(f, sides)
            entry.short_description = short
            entry.description = long
            reason = entry.reason.add()
            reason.type = _reason_type(f, a)
            reason.short_description = short
            reason.description = long
    if report.dataset_drifted:
        d = out.dataset_anomaly_info
        d.severity = a.AnomalyInfo.ERROR
        d.short_description = "Dataset drift"
        d.description = f"{sides}: {report.summary_line()}"
        r = d.reason.add()
        r.type = a.AnomalyInfo.CUSTOM_VALIDATION
        r.short_description = "Dataset drift"
        r.description = d.description
    return out


# ------------------------------------------------------------------- reading and merging


def parse_anomalies(raw: bytes, source: str = "anomalies"):
    """An ``Anomalies`` proto from the bytes of a ``SchemaDiff.pb`` (binary, or text format).

    Raises:
      ValueError: naming ``source`` when the bytes are neither.
    """
    from google.protobuf import message, text_format
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    proto = anomalies_pb2.Anomalies()
    try:
        proto.ParseFromString(raw)
        return proto
    except message.DecodeError:
        pass
    try:
        return text_format.Parse(raw.decode("utf-8"), anomalies_pb2.Anomalies())
    except (UnicodeDecodeError, text_format.ParseError) as exc:
        raise ValueError(f"{source} is not an Anomalies proto (binary or text): {exc}") from None


def anomalies_to_dicts(proto, split: str = "") -> list:
    """Flatten an ``Anomalies`` proto: ``[{"split", "feature", "severity", "description",
    "types"}]``, the data-set-level anomaly (if any) as feature ``(dataset)``."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    info_cls = anomalies_pb2.AnomalyInfo

    def row(feature: str, info) -> dict:
        return {
            "split": split,
            "feature": feature,
            "severity": info_cls.Severity.Name(info.severity),
            "description": info.description or info.short_description,
            "types": ",".join(info_cls.Type.Name(r.type) for r in info.reason),
        }

    out = [row(feature, info) for feature, info in sorted(proto.anomaly_info.items())]
    if proto.HasField("dataset_anomaly_info"):
        out.append(row("(dataset)", proto.dataset_anomaly_info))
    return out


def merge_anomalies(into, other) -> None:
    """Merge the ``Anomalies`` proto ``other`` into ``into`` (two comparisons, same split).

    A feature in both keeps every reason, the higher severity and both descriptions;
    ``drift_skew_info`` entries are appended; dataset-level reasons are appended (and the
    dataset anomaly copied when only ``other`` has one).
    """
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
        if into.HasField("dataset_anomaly_info"):
            into.dataset_anomaly_info.reason.extend(other.dataset_anomaly_info.reason)
        else:
            into.dataset_anomaly_info.CopyFrom(other.dataset_anomaly_info)
