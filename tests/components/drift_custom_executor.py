"""A user-defined drift metric wired into DriftValidator through an executor subclass.

Used by ``test_drift_validator.py``: the subclass must live in an importable module (the
pipeline stores its class path), as a user's own would.
"""

from __future__ import annotations

from tfx_addons_lab.drift import DriftMethod
from tfx_addons_lab.executors.drift_validator import DriftValidatorExecutor


def mean_shift(baseline, current):
    """Absolute difference of the means in baseline standard deviations."""
    scale = baseline.std if baseline.std else 1.0
    return abs(current.mean - baseline.mean) / scale, None


MEAN_SHIFT = DriftMethod(
    "mean_shift",
    {"numeric"},
    "distance",
    0.5,
    mean_shift,
    "absolute mean difference in baseline standard deviations",
)


class MeanShiftExecutor(DriftValidatorExecutor):
    """DriftValidatorExecutor that knows the ``mean_shift`` metric."""

    extra_methods = [MEAN_SHIFT]
