"""Quiet TensorFlow start-up noise before TensorFlow is first imported.

TensorFlow prints CUDA factory registration errors and oneDNN notices on import on
machines without a GPU. Our CLI and examples call :func:`quiet_tensorflow` first; users keep
control through the usual variables (an explicit ``TF_CPP_MIN_LOG_LEVEL`` is respected) or
``--verbose``.
"""

from __future__ import annotations

import logging
import os


def quiet_tensorflow(verbose: bool = False) -> None:
    """Set the environment so TF/absl/Beam log only warnings, unless ``verbose``.

    Also selects the legacy Keras 2 (``tf_keras``) that TFX 1.16 trainers need.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    import warnings

    # google-api-core warns about Python 3.10 once per Vertex schema module, TF and TFX emit
    # deprecation notices: none of it is actionable for a user of our CLI or examples.
    for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("tensorflow", "absl", "apache_beam", "ml_metadata", "tfx"):
        logging.getLogger(name).setLevel(logging.WARNING)
