"""Foundation: the package imports fast and lazily, the CLI answers --help/--version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tfx_addons_lab

BIN = Path(sys.executable).parent


def test_version_is_exposed():
    assert tfx_addons_lab.__version__.count(".") >= 2


def test_import_is_fast_and_lazy():
    """`import tfx_addons_lab` (and its subpackages) must not import TensorFlow or TFX."""
    code = (
        "import sys, time; t = time.perf_counter(); import tfx_addons_lab, "
        "tfx_addons_lab.components, tfx_addons_lab.executors, tfx_addons_lab.cli; "
        "dt = time.perf_counter() - t; import json; "
        "print(json.dumps({'dt': dt, 'mods': [m for m in ('tensorflow', 'tfx', 'mlflow', "
        "'apache_beam', 'kfp') if m in sys.modules]}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["mods"] == []
    assert result["dt"] < 1.0


def test_lazy_attribute_error_is_clear():
    import tfx_addons_lab.components as comps

    with pytest.raises(AttributeError, match="NoSuchComponent"):
        comps.NoSuchComponent  # noqa: B018


def test_missing_extra_message_names_the_extra():
    from tfx_addons_lab.errors import MissingExtraError, require

    with pytest.raises(MissingExtraError, match=r"tfx-addons-lab\[mlflow\]"):
        require("surely_not_installed_module_xyz", "mlflow", "the MLflow registry")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["drift", "--help"], ["registry", "--help"], ["lineage", "--help"]],
)
def test_cli_help_and_version(args):
    out = subprocess.run([str(BIN / "tfx-addons-lab"), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    if args == ["--version"]:
        assert out.stdout.strip() == f"tfx-addons-lab {tfx_addons_lab.__version__}"
    else:
        assert "usage:" in out.stdout


def test_cli_bad_usage_exits_2_without_traceback(tmp_path):
    out = subprocess.run(
        [
            str(BIN / "tfx-addons-lab"),
            "lineage",
            "--metadata",
            str(tmp_path / "missing.sqlite"),
            "--artifact",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "missing.sqlite" in out.stderr and "does not exist" in out.stderr
    out = subprocess.run(
        [str(BIN / "tfx-addons-lab"), "no-such-command"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
