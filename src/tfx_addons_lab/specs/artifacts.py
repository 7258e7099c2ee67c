"""Artifact types of tfx-addons-lab.

TYPE_NAMEs follow ``tfx_addons_lab.<Name>``: no spaces, valid as Vertex AI schema titles.
"""

from __future__ import annotations

from tfx.types import artifact


class DriftReport(artifact.Artifact):
    """A drift report folder: ``report.json`` (stable schema) and ``report.html``.

    Custom properties: ``dataset_drifted`` (int 0/1), ``drift_share`` (float),
    ``drifted_features`` (comma-separated names), ``status`` (``ok``/``no_baseline``).
    """

    TYPE_NAME = "tfx_addons_lab.DriftReport"


class GateReport(artifact.Artifact):
    """A gate report folder: ``gate_report.json`` listing every check with its outcome.

    Custom properties: ``passed`` (int 0/1) and ``reason`` (one readable line).
    """

    TYPE_NAME = "tfx_addons_lab.GateReport"
