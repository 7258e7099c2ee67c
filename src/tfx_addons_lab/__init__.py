"""tfx-addons-lab: TFX components that make production ML pipelines safer.

Importing this package is cheap: TensorFlow, TFX and optional integrations are imported
only when the attribute that needs them is first used.

Layers (each imports only those below it):

1. core: :mod:`tfx_addons_lab.drift`, :mod:`tfx_addons_lab.registry`,
   :mod:`tfx_addons_lab.gates` -- plain Python, no TFX import;
2. :mod:`tfx_addons_lab.executors` -- thin, subclassable TFX executors;
3. :mod:`tfx_addons_lab.components` -- the components users wire into pipelines;
4. the ``tfx-addons-lab`` CLI and ``examples/``.
"""

from __future__ import annotations

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
