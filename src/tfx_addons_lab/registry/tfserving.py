"""A registry in the TensorFlow Serving layout: ``<root>/<model>/<version>/saved_model.pb``.

Point TF Serving's ``--model_base_path`` (or a ``model_config_list`` entry) at
``<root>/<model>`` and every version pushed here is served under its number; aliases map to
TF Serving version labels by hand (``version_labels``) or through :meth:`set_alias` users.

Layout::

    <root>/<model>/<n>/                       the SavedModel files, directly (TF Serving reads them)
    <root>/<model>/<n>/.tfx-addons-lab-manifest.json   metadata + checksums (TF Serving ignores it)
    <root>/<model>/.tfx-addons-lab/           aliases.json, lock, staging (non-numeric: ignored)

A version folder appears with one atomic ``rename`` of a complete staging folder; inside it
``saved_model.pb`` is still written last, so even a reader of a copy made with a non-atomic
tool (or an object store sync) only finds ``saved_model.pb`` once every other file is there.
Staging happens inside ``<root>/<model>/.tfx-addons-lab/`` (same filesystem, so the rename is
atomic), never under a numeric name TF Serving would try to load.
"""

from __future__ import annotations

import os

from tfx_addons_lab.registry.base import validate_name
from tfx_addons_lab.registry.filesystem import FilesystemRegistry


class TFServingRegistry(FilesystemRegistry):
    """Numbered version folders under a model base path, loadable by TF Serving as is.

    Open it with ``tfserving:///abs/models`` or ``tfserving://relative/models``; the model base
    path of model ``m`` is ``<root>/m``.
    """

    SCHEME = "tfserving"
    MANIFEST = ".tfx-addons-lab-manifest.json"
    PAYLOAD = ""
    META = ".tfx-addons-lab"

    def _model_dir(self, name: str) -> str:
        return os.path.join(self.root, name)

    def _versions_dir(self, name: str) -> str:
        return self._model_dir(name)

    def model_base_path(self, name: str) -> str:
        """The folder to give TF Serving as ``--model_base_path`` for model ``name``."""
        return self._model_dir(validate_name(name))

    def _models_base(self) -> str:
        return self.root

    def _is_model(self, name: str) -> bool:
        return os.path.isdir(os.path.join(self.root, name, self.META)) and bool(
            self._version_numbers(name)
        )
