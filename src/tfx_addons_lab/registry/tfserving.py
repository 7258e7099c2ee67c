"""A registry in the TensorFlow Serving layout: ``<root>/<model>/<version>/saved_model.pb``.

Serving follows the registry: after every alias change (a push that sets aliases, ``promote``,
``approve``, ``rollback``) the registry rewrites a TF Serving model config file,
``<root>/models.config`` by default, atomically (temp file + ``rename``). In it each model
whose *serving alias* (default ``champion``) is set is served at exactly that version
(``model_version_policy { specific { versions: N } }``) and every alias of the model is a
version label (``version_labels { key: "champion" value: N }``). Run::

    tensorflow_model_server --model_config_file=<root>/models.config \\
        --model_config_file_poll_wait_seconds=30 \\
        --allow_version_labels_for_unavailable_models=true

and ``tfx-addons-lab registry rollback tfserving://<root> MODEL --alias champion`` is the one
command that changes the model actually served. A server started with plain
``--model_base_path=<root>/<model>`` ignores the aliases and serves the highest version
number (TF Serving's default ``latest`` policy).

Layout::

    <root>/models.config                      the TF Serving model config (ModelServerConfig)
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
from typing import Dict, List, Optional, Tuple

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry import _files
from tfx_addons_lab.registry.base import validate_alias, validate_name
from tfx_addons_lab.registry.filesystem import FilesystemRegistry, _flag, path_from_uri

#: the alias whose version TF Serving serves, unless the URI or constructor names another
DEFAULT_SERVING_ALIAS = "champion"
#: the model config file name, in the registry root unless ``config=`` names another path
CONFIG_FILE = "models.config"


def _quote(text: str) -> str:
    """``text`` as a protobuf text-format string literal (C escapes, UTF-8 as octal)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def serving_config_text(models: List[Tuple[str, str, int, Dict[str, int]]]) -> str:
    """A ``ModelServerConfig`` in text format for ``(name, base_path, version, labels)`` rows.

    Each model is served at exactly ``version``; ``labels`` (alias -> version) become its
    ``version_labels``. Rows are written in the given order.
    """
    lines = [
        "# TF Serving model config written by tfx-addons-lab after every alias change.",
        "# Each model serves exactly the version of its serving alias. Do not edit: rewritten.",
        "model_config_list {",
    ]
    for name, base_path, version, labels in models:
        lines += [
            "  config {",
            f"    name: {_quote(name)}",
            f"    base_path: {_quote(base_path)}",
            '    model_platform: "tensorflow"',
            "    model_version_policy {",
            "      specific {",
            f"        versions: {int(version)}",
            "      }",
            "    }",
        ]
        for alias, number in sorted(labels.items()):
            lines += [
                "    version_labels {",
                f"      key: {_quote(alias)}",
                f"      value: {int(number)}",
                "    }",
            ]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


class TFServingRegistry(FilesystemRegistry):
    """Numbered version folders under a model base path, loadable by TF Serving as is.

    Open it with ``tfserving:///abs/models`` or ``tfserving://relative/models``; the model base
    path of model ``m`` is ``<root>/m``. URI options: ``fsync`` (as for the filesystem
    registry), ``serving_alias`` (the alias TF Serving serves, default ``champion``) and
    ``config`` (the model config file, default ``<root>/models.config``), e.g.
    ``tfserving:///srv/models?serving_alias=prod&config=/etc/tfs/models.config``.

    Args:
      root: the registry folder (TF Serving's model root).
      fsync: fsync every written file and folder before publishing.
      uri: the URI it was opened with (for messages).
      serving_alias: the alias whose version the model config serves.
      config_file: where to write the model config (default ``<root>/models.config``).
    """

    SCHEME = "tfserving"
    MANIFEST = ".tfx-addons-lab-manifest.json"
    PAYLOAD = ""
    META = ".tfx-addons-lab"

    def __init__(
        self,
        root: str,
        fsync: bool = True,
        uri: Optional[str] = None,
        serving_alias: str = DEFAULT_SERVING_ALIAS,
        config_file: Optional[str] = None,
    ) -> None:
        super().__init__(root, fsync=fsync, uri=uri)
        self.serving_alias = validate_alias(serving_alias)
        self.config_file = os.path.abspath(
            os.path.expanduser(config_file) if config_file else os.path.join(self.root, CONFIG_FILE)
        )

    @classmethod
    def from_uri(cls, uri: str) -> TFServingRegistry:
        path, options = path_from_uri(uri, cls.SCHEME)
        unknown = set(options) - {"fsync", "serving_alias", "config"}
        if unknown:
            raise InvalidInputError(
                f"registry URI {uri!r} has unknown option(s) {sorted(unknown)}; known: fsync, "
                "serving_alias, config"
            )
        return cls(
            path,
            fsync=_flag(options, "fsync", True),
            uri=uri,
            serving_alias=options.get("serving_alias", DEFAULT_SERVING_ALIAS),
            config_file=options.get("config") or None,
        )

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

    def _aliases_changed(self, name: str) -> None:
        self.write_serving_config()

    def write_serving_config(self) -> str:
        """Rewrite the TF Serving model config from every model's aliases; return its path.

        Called after every alias change; call it yourself to repair a config file deleted or
        left stale by a process killed between an alias move and the rewrite. Writers are
        serialised by a lock beside the file and each writes the aliases as they are when it
        holds the lock, so the last rewrite always reflects the newest alias state.
        """
        folder = os.path.dirname(self.config_file)
        os.makedirs(folder, exist_ok=True)
        with _files.file_lock(self.config_file + ".lock"):
            rows = []
            for name in self.list_models():
                table = self.aliases(name)
                if self.serving_alias in table:
                    rows.append(
                        (name, self.model_base_path(name), table[self.serving_alias], table)
                    )
            text = serving_config_text(rows)
            _files.write_bytes_atomic(self.config_file, text.encode("utf-8"), fsync=self.fsync)
        return self.config_file
