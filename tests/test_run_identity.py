"""``run_identity.pipeline_identity``: which pipeline and run, under every orchestrator.

Contexts are stand-ins with the attributes TFX's executor context has (``pipeline_info.id``,
``pipeline_run_id``, ``pipeline_node.node_info.id``); Vertex's entrypoint builds a context
with none of them.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tfx_addons_lab.run_identity import (
    COMPONENT_ID_PROPERTY,
    KUBEFLOW_PLACEHOLDERS,
    PIPELINE_NAME_PROPERTY,
    PIPELINE_RUN_ID_PROPERTY,
    pipeline_identity,
    resolved,
)

#: What Vertex's entrypoint gives the executor: no pipeline info, run id or node.
VERTEX_CONTEXT = SimpleNamespace(pipeline_info=None, pipeline_run_id=None, pipeline_node=None)
RESOLVED = {
    "pipeline_job_name": "penguin-addons-20240101120000",
    "pipeline_job_uuid": "3f2c9a4e-0b1d-4c6e-9f7a-2d8e5b1c0a99",
    "pipeline_task_name": "RegistryPusher",
}


def _ir_context(pipeline="penguin-addons", run="2024-01-01T12:00:00", node="RegistryPusher"):
    return SimpleNamespace(
        pipeline_info=SimpleNamespace(id=pipeline),
        pipeline_run_id=run,
        pipeline_node=SimpleNamespace(node_info=SimpleNamespace(id=node)),
    )


def test_the_placeholders_are_kfps_own_strings():
    dsl = pytest.importorskip("kfp.dsl")
    assert KUBEFLOW_PLACEHOLDERS == {
        "pipeline_job_name": dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        "pipeline_job_uuid": dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        "pipeline_task_name": dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
    }


def test_resolved_kfp_parameters_give_the_run_id_on_vertex():
    assert pipeline_identity(VERTEX_CONTEXT, RESOLVED) == {
        "pipeline_run_id": "penguin-addons-20240101120000",
        "pipeline_job_uuid": "3f2c9a4e-0b1d-4c6e-9f7a-2d8e5b1c0a99",
        "component_id": "RegistryPusher",
    }
    assert pipeline_identity(None, RESOLVED)["pipeline_run_id"] == RESOLVED["pipeline_job_name"]


def test_unresolved_placeholders_are_ignored():
    # A backend that does not substitute them, or the parameters read outside KFP.
    assert pipeline_identity(VERTEX_CONTEXT, dict(KUBEFLOW_PLACEHOLDERS)) == {}
    assert pipeline_identity(None, dict(KUBEFLOW_PLACEHOLDERS)) == {}
    partly = dict(RESOLVED, pipeline_job_name="{{$.pipeline_job_name}}", pipeline_job_uuid="")
    assert pipeline_identity(VERTEX_CONTEXT, partly) == {"component_id": "RegistryPusher"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("job-1", "job-1"),
        (" job-1 ", "job-1"),
        ("{{$.pipeline_job_name}}", None),
        ("prefix-{{$.pipeline_job_uuid}}", None),
        ("{{$.inputs.parameters['x']}}", None),
        ("", None),
        (None, None),
        ("{not a placeholder}", "{not a placeholder}"),
    ],
)
def test_resolved(value, expected):
    assert resolved(value) == expected


def test_the_context_wins_over_kfp_parameters():
    # An IR runner (LocalDagRunner...) has a run id: the KFP parameters, resolved or not,
    # add nothing (no pipeline_job_uuid either).
    expected = {
        "pipeline_name": "penguin-addons",
        "pipeline_run_id": "2024-01-01T12:00:00",
        "component_id": "RegistryPusher",
    }
    assert pipeline_identity(_ir_context(), RESOLVED) == expected
    assert pipeline_identity(_ir_context(), dict(KUBEFLOW_PLACEHOLDERS)) == expected
    assert pipeline_identity(_ir_context(), {}) == expected


def test_the_airflow_driver_properties_are_unchanged():
    legacy = SimpleNamespace(pipeline_info=None, pipeline_run_id=None, pipeline_node=None)
    props = {
        PIPELINE_NAME_PROPERTY: "penguin-addons",
        PIPELINE_RUN_ID_PROPERTY: "manual__2024-01-01T00:00:00+00:00",
        COMPONENT_ID_PROPERTY: "RegistryPusher",
    }
    assert pipeline_identity(legacy, props) == {
        "pipeline_name": "penguin-addons",
        "pipeline_run_id": "manual__2024-01-01T00:00:00+00:00",
        "component_id": "RegistryPusher",
    }
    # Even if both were present, the driver's run id comes first.
    both = dict(props, **RESOLVED)
    assert pipeline_identity(legacy, both)["pipeline_run_id"] == props[PIPELINE_RUN_ID_PROPERTY]


def test_registry_pusher_adds_the_placeholders_only_with_kubeflow_true(tmp_path):
    """Airflow renders every string execution property with Jinja (PythonOperator's
    ``op_kwargs``), which rejects ``{{$...}}``: the default component must not carry them."""
    jinja2 = pytest.importorskip("jinja2")
    from tfx.types import Channel, standard_artifacts

    from tfx_addons_lab.components import RegistryPusher
    from tfx_addons_lab.errors import InvalidInputError

    model = Channel(type=standard_artifacts.Model)
    kwargs = dict(model=model, registry_uri=str(tmp_path / "registry"), model_name="penguin")
    default = RegistryPusher(**kwargs).exec_properties
    assert not set(KUBEFLOW_PLACEHOLDERS) & set(default)
    env = jinja2.Environment()
    for key, value in default.items():  # what Airflow's templating does to them
        if isinstance(value, str):
            assert env.from_string(value).render() == value, key
    kubeflow = RegistryPusher(**kwargs, kubeflow=True).exec_properties
    assert {k: kubeflow[k] for k in KUBEFLOW_PLACEHOLDERS} == KUBEFLOW_PLACEHOLDERS
    with pytest.raises(jinja2.TemplateSyntaxError):
        env.from_string(kubeflow["pipeline_job_name"])
    with pytest.raises(InvalidInputError, match="kubeflow must be True or False"):
        RegistryPusher(**kwargs, kubeflow="yes")
