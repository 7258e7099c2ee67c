"""tfx-addons-lab: TFX components that make production ML pipelines safer.

Importing this package is cheap: TensorFlow, TFX and optional integrations are imported
only when the attribute that needs them is first used.

Layers (each imports only those below it):

1. core: :mod:`tfx_addons_lab.drift`, :mod:`tfx_addons_lab.registry`,
   :mod:`tfx_addons_lab.gates` -- plain Python, no TFX import;
2. :mod:`tfx_addons_lab.specs` and :mod:`tfx_addons_lab.artifact_io` -- component specs and
   artifact I/O shared by executors and components;
   :mod:`tfx_addons_lab.executors` -- thin, subclassable TFX executors;
3. :mod:`tfx_addons_lab.components` -- the components users wire into pipelines;
4. the ``tfx-addons-lab`` CLI and ``examples/``.
"""

from __future__ import annotations

from tfx_addons_lab._lazy import lazy_getattr
from tfx_addons_lab._version import __version__
from tfx_addons_lab.errors import (
    InvalidInputError,
    MissingExtraError,
    TfxAddonsLabError,
)

__all__ = [
    "__version__",
    "TfxAddonsLabError",
    "InvalidInputError",
    "MissingExtraError",
]

# The artifact classes, importable by their TYPE_NAME (``tfx_addons_lab.DriftReport``): Vertex
# AI / Kubeflow v2 launchers import a custom artifact class from its schema title.
_LAZY = {
    "DriftReport": ("tfx_addons_lab.specs.artifacts", "DriftReport"),
    "GateReport": ("tfx_addons_lab.specs.artifacts", "GateReport"),
}
__getattr__ = lazy_getattr(__name__, _LAZY)
