"""Spec of ``RegistryChampion`` (a ``@component``, so no ``ComponentSpec``): the custom
properties of its output ``Model``, which BlessingGate's executor reads back."""

from __future__ import annotations

from typing import Any, Optional

from tfx_addons_lab.artifact_io import custom_properties

__all__ = [
    "CHAMPION_FOUND",
    "REASON",
    "REGISTRY_VERSION",
    "SAME_AS_CANDIDATE",
    "SOURCE_MODEL_ARTIFACT_ID",
    "SOURCE_URI",
    "stand_in_reason",
]

#: 1 when the output is a copy of the champion, 0 when it is a copy of the candidate standing
#: in for "no champion" (BlessingGate treats it as no baseline then).
CHAMPION_FOUND = "champion_found"
#: 1 when the alias points at the candidate itself (then ``CHAMPION_FOUND`` is 0).
SAME_AS_CANDIDATE = "same_as_candidate"
#: Why this model was output (the registry lookup's reason, e.g. "no model 'm' yet").
REASON = "reason"
REGISTRY_VERSION = "registry_version"
SOURCE_MODEL_ARTIFACT_ID = "source_model_artifact_id"
SOURCE_URI = "source_uri"


def stand_in_reason(model: Any) -> Optional[str]:
    """Why a ``Model`` artifact output by RegistryChampion is the candidate standing in for "no
    champion" (``CHAMPION_FOUND`` 0): its ``REASON``. ``None`` for ``None``, a champion, or a
    model RegistryChampion did not output (no such property)."""
    if model is None:
        return None
    properties = custom_properties(model)
    if properties.get(CHAMPION_FOUND) in (0, 0.0):
        return str(properties.get(REASON) or "no champion")
    return None
