"""TFX components of tfx-addons-lab (imported lazily: ``import tfx_addons_lab`` stays fast).

==================  ====================================================================
``DriftValidator``  drift / training-serving skew from TFDV statistics, with a gate
``BlessingGate``    combines every signal into a standard ``ModelBlessing``
``RegistryPusher``  pushes blessed models into a versioned model registry
``RegistryChampion`` the model a registry alias points at (``registry_champion_resolver``)
``AnomaliesGate``   ``@component`` that fails (or records) on ExampleAnomalies
``ExampleCountGate`` ``@component`` that fails when ExampleGen produced too few examples
==================  ====================================================================
"""

from __future__ import annotations

from tfx_addons_lab._lazy import lazy_getattr

_LAZY = {
    "DriftValidator": (".drift_validator", "DriftValidator"),
    "DriftValidatorSpec": ("tfx_addons_lab.specs.drift_validator", "DriftValidatorSpec"),
    "baseline_statistics_resolver": (".baseline_resolver", "baseline_statistics_resolver"),
    "registry_champion_resolver": (".champion_resolver", "registry_champion_resolver"),
    "RegistryChampion": (".registry_champion", "RegistryChampion"),
    "BlessingGate": (".blessing_gate", "BlessingGate"),
    "BlessingGateSpec": ("tfx_addons_lab.specs.blessing_gate", "BlessingGateSpec"),
    "RegistryPusher": (".registry_pusher", "RegistryPusher"),
    "RegistryPusherSpec": ("tfx_addons_lab.specs.registry_pusher", "RegistryPusherSpec"),
    "AnomaliesGate": (".gates", "AnomaliesGate"),
    "ExampleCountGate": (".gates", "ExampleCountGate"),
    "DriftReport": ("tfx_addons_lab.specs.artifacts", "DriftReport"),
    "GateReport": ("tfx_addons_lab.specs.artifacts", "GateReport"),
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list:
    return __all__
