"""Fixtures for direct ``Executor().Do()`` tests: real artifacts on a local or ``ram://`` root.

``root`` is parametrized: a local temporary folder, and TensorFlow's in-process ``ram://``
filesystem registered with TFX's filesystem registry. On ``ram://`` any ``os``/``open``/
``shutil`` use on an artifact URI fails (no such local path), so every test that runs on
both roots proves the executor goes through ``tfx.dsl.io.fileio``.
"""

from __future__ import annotations

import uuid

import pytest


def register_ram_filesystem() -> None:
    """Make ``tfx.dsl.io.fileio`` serve ``ram://`` through TensorFlow's RAM filesystem."""
    from tfx.dsl.io import filesystem_registry
    from tfx.dsl.io.plugins import tensorflow_gfile

    class RamFilesystem(tensorflow_gfile.TensorflowFilesystem):
        SUPPORTED_SCHEMES = ["ram://"]

    registry = filesystem_registry.DEFAULT_FILESYSTEM_REGISTRY
    if registry.get_filesystem_for_scheme("ram://").__name__ != "RamFilesystem":
        registry.register(RamFilesystem, priority=0)


@pytest.fixture(params=["local", "ram"])
def root(request, tmp_path) -> str:
    """An artifact root: ``tmp_path`` or a fresh ``ram://`` folder."""
    if request.param == "local":
        return str(tmp_path)
    register_ram_filesystem()
    return f"ram://tfx-addons-lab-{uuid.uuid4().hex}"


@pytest.fixture
def local_root(tmp_path) -> str:
    return str(tmp_path)
