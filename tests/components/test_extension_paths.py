"""Both ways of giving a component a custom executor, checked at pipeline-build time (fast).

TFX's documented way is a component subclass with its own ``EXECUTOR_SPEC``;
``custom_executor_spec=`` is deprecated by TFX but keeps working. The executor hooks
themselves are tested through ``Do()`` in ``tests/executors/``.
"""

from __future__ import annotations

import json

import pytest
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, standard_artifacts

from tests.components.drift_custom_executor import MeanShiftExecutor
from tests.components.gate_extensions import ModelSizeBudgetExecutor
from tfx_addons_lab.components import BlessingGate, DriftValidator, RegistryPusher
from tfx_addons_lab.drift import methods
from tfx_addons_lab.executors import RegistryPusherExecutor
from tfx_addons_lab.specs import drift_validator as drift_spec


class NotifyingPusher(RegistryPusherExecutor):
    def after_push(self, version, registry):
        pass


def _model():
    return channel.Channel(type=standard_artifacts.Model)


def _drift(cls, **kwargs):
    return cls(
        statistics=channel.Channel(type=standard_artifacts.ExampleStatistics),
        comparisons=[("eval", "train")],
        drift_config={"numeric_method": "mean_shift"},
        **kwargs,
    )


CASES = {
    "drift_validator": (DriftValidator, MeanShiftExecutor, _drift),
    "blessing_gate": (
        BlessingGate,
        ModelSizeBudgetExecutor,
        lambda cls, **kw: cls(model=_model(), custom_config={"max_model_bytes": 1000}, **kw),
    ),
    "registry_pusher": (
        RegistryPusher,
        NotifyingPusher,
        lambda cls, **kw: cls(model=_model(), registry_uri="/tmp/registry", model_name="m", **kw),
    ),
}


@pytest.fixture(autouse=True)
def _fresh_method_registry():
    """As in a fresh process: only the executor subclass knows ``mean_shift``."""
    methods._REGISTRY.pop("mean_shift", None)
    yield
    methods._REGISTRY.pop("mean_shift", None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_component_subclass_with_executor_spec_runs_its_executor(name):
    component, executor, build = CASES[name]
    subclass = type(
        f"Custom{component.__name__}",
        (component,),
        {"EXECUTOR_SPEC": executor_spec.ExecutorClassSpec(executor)},
    )
    node = build(subclass)
    assert node.executor_spec.executor_class is executor
    assert build(component).executor_spec.executor_class is not executor


@pytest.mark.parametrize("name", sorted(CASES))
def test_custom_executor_spec_still_works(name):
    component, executor, build = CASES[name]
    node = build(component, custom_executor_spec=executor_spec.ExecutorClassSpec(executor))
    assert node.executor_spec.executor_class is executor


def test_drift_config_naming_the_executors_metric_validates_either_way():
    with pytest.raises(Exception, match="mean_shift"):
        _drift(DriftValidator)  # the stock executor does not know the metric
    node = _drift(
        DriftValidator, custom_executor_spec=executor_spec.ExecutorClassSpec(MeanShiftExecutor)
    )
    config = json.loads(node.exec_properties[drift_spec.DRIFT_CONFIG_KEY])
    assert config["numeric_method"] == "mean_shift"
