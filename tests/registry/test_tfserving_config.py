"""Serving follows the registry: the TF Serving model config a ``tfserving://`` registry writes.

The file is parsed with TF Serving's own proto (``tensorflow_serving.config``, from the
``tensorflow-serving-api`` package that TFX depends on), so a field TF Serving does not know
or a malformed literal fails the test.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry import open_registry
from tfx_addons_lab.registry.tfserving import TFServingRegistry, serving_config_text

from ._helpers import make_model


def _parse(path) -> dict:
    """``{model: (served versions, {label: version}, base_path)}`` read with TF Serving's proto."""
    config = text_format.Parse(Path(path).read_text(), model_server_config_pb2.ModelServerConfig())
    out = {}
    for model in config.model_config_list.config:
        policy = model.model_version_policy
        assert policy.WhichOneof("policy_choice") == "specific"
        assert model.model_platform == "tensorflow"
        out[model.name] = (
            list(policy.specific.versions),
            dict(model.version_labels),
            model.base_path,
        )
    return out


@pytest.fixture
def reg(tmp_path) -> TFServingRegistry:
    registry = open_registry(f"tfserving://{tmp_path}/models")
    for seed in (1, 2, 3):
        registry.push("penguin", str(make_model(tmp_path / f"p{seed}", seed=seed)))
    return registry


def test_every_alias_change_rewrites_the_config_to_serve_the_champion(reg, tmp_path):
    config = tmp_path / "models" / "models.config"
    assert not config.exists()  # pushes move no alias: nothing to serve yet
    reg.set_alias("penguin", "champion", 1)  # as RegistryPusher(aliases=["champion"]) does
    base = str(tmp_path / "models" / "penguin")
    assert _parse(config) == {"penguin": ([1], {"champion": 1}, base)}
    reg.set_alias("penguin", "champion", 2)  # registry promote
    assert _parse(config)["penguin"][:2] == ([2], {"champion": 2})
    reg.set_alias("penguin", "challenger", 3)  # another alias: a label, not served
    assert _parse(config)["penguin"][:2] == ([2], {"champion": 2, "challenger": 3})
    reg.approve("penguin", 3, "champion", "reviewed")  # registry approve
    assert _parse(config)["penguin"][:2] == ([3], {"champion": 3, "challenger": 3})
    reg.rollback("penguin", "champion")  # one command: the served model goes back
    assert _parse(config)["penguin"][:2] == ([2], {"champion": 2, "challenger": 3})
    # written by rename: no temp file is left beside it
    assert sorted(p.name for p in config.parent.iterdir() if p.is_file()) == [
        "models.config",
        "models.config.lock",
        "registry.json",
    ]
    # the config file and its lock are not models
    assert reg.list_models() == ["penguin"]


def test_config_lists_every_model_with_a_serving_alias(reg, tmp_path):
    reg.push("flights", str(make_model(tmp_path / "f1", seed=11)))
    reg.push("flights", str(make_model(tmp_path / "f2", seed=12)))
    reg.set_alias("flights", "staging", 2)  # no champion: not served
    reg.set_alias("penguin", "champion", 3)
    path = tmp_path / "models" / "models.config"
    assert set(_parse(path)) == {"penguin"}
    reg.set_alias("flights", "champion", 1)
    parsed = _parse(path)
    assert parsed["flights"][:2] == ([1], {"champion": 1, "staging": 2})
    assert parsed["penguin"][:2] == ([3], {"champion": 3})
    # another registry object (another process) sees and keeps the other model's entry
    other = open_registry(f"tfserving://{tmp_path}/models")
    other.set_alias("penguin", "champion", 1)
    assert _parse(path)["flights"][:2] == ([1], {"champion": 1, "staging": 2})


def test_serving_alias_and_config_path_come_from_the_uri(tmp_path):
    etc = tmp_path / "etc" / "tfs.config"
    reg = open_registry(f"tfserving://{tmp_path}/models?serving_alias=prod&config={etc}")
    assert isinstance(reg, TFServingRegistry) and reg.serving_alias == "prod"
    reg.push("m", str(make_model(tmp_path / "a", seed=1)))
    reg.push("m", str(make_model(tmp_path / "b", seed=2)))
    reg.set_alias("m", "champion", 2)
    assert _parse(etc) == {}  # champion is not the serving alias here
    reg.set_alias("m", "prod", 1)
    assert _parse(etc)["m"][:2] == ([1], {"champion": 2, "prod": 1})
    assert not (tmp_path / "models" / "models.config").exists()
    with pytest.raises(InvalidInputError, match="unknown option"):
        open_registry(f"tfserving://{tmp_path}/models?servingalias=prod")
    with pytest.raises(InvalidInputError, match="reserved"):
        open_registry(f"tfserving://{tmp_path}/models?serving_alias=latest")


def test_odd_paths_are_quoted_so_tf_serving_reads_them_back(tmp_path):
    odd = tmp_path / 'root "quoted" \\ back\nslash é'
    reg = TFServingRegistry(str(odd))
    reg.push("m", str(make_model(tmp_path / "a", seed=1)))
    reg.set_alias("m", "champion", 1)
    assert _parse(odd / "models.config")["m"][2] == str(odd / "m")
    text = serving_config_text([("m", "/x", 4, {"champion": 4, "b": 5})])
    assert _parse_text(text) == {"m": ([4], {"champion": 4, "b": 5}, "/x")}


def _parse_text(text: str) -> dict:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tfx-addons-lab-cfg-{os.getpid()}"
    path.write_text(text)
    try:
        return _parse(path)
    finally:
        path.unlink()


def test_concurrent_alias_changes_leave_the_config_at_the_final_state(reg, tmp_path):
    errors = []

    def flip(alias: str, versions) -> None:
        try:
            r = open_registry(f"tfserving://{tmp_path}/models")
            for v in versions:
                r.set_alias("penguin", alias, v)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=flip, args=("champion", [1, 2, 3, 1, 2])),
        threading.Thread(target=flip, args=("challenger", [3, 2, 1, 3])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    final = reg.aliases("penguin")
    assert final == {"champion": 2, "challenger": 3}
    assert _parse(tmp_path / "models" / "models.config")["penguin"][:2] == ([2], final)


def test_write_serving_config_repairs_a_deleted_file(reg, tmp_path):
    reg.set_alias("penguin", "champion", 2)
    path = tmp_path / "models" / "models.config"
    path.unlink()
    assert reg.write_serving_config() == str(path)
    assert _parse(path)["penguin"][:2] == ([2], {"champion": 2})
