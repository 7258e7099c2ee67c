"""A user-defined BlessingGate check, as a user would write it: a model-size budget.

Lives in an importable module so ``ExecutorClassSpec`` can name the class (LocalDagRunner,
Beam, Kubeflow all import it by its qualified name).
"""

from __future__ import annotations

import os
from typing import List

from tfx_addons_lab.executors import BlessingGateExecutor
from tfx_addons_lab.gates import CheckResult, GateConfig, Signals


def directory_size(path: str) -> int:
    """Total bytes of the files below ``path``."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, files in os.walk(path)
        for name in files
    )


class ModelSizeBudgetExecutor(BlessingGateExecutor):
    """Adds a ``model_size`` check: the model directory must fit ``max_model_bytes``."""

    def load_signals(self, input_dict, config: GateConfig) -> Signals:
        signals = super().load_signals(input_dict, config)
        uri = signals.model_uri
        signals.extra["model_size_bytes"] = directory_size(uri) if uri else None
        return signals

    def extra_checks(self, signals: Signals, config: GateConfig) -> List[CheckResult]:
        budget = config.custom_config.get("max_model_bytes")
        size = signals.extra.get("model_size_bytes")
        details = {"model_size_bytes": size, "max_model_bytes": budget}
        if budget is None or size is None:
            return [CheckResult("model_size", False, "model size or budget unknown", details)]
        if size > budget:
            return [CheckResult("model_size", False, f"{size} bytes > budget {budget}", details)]
        return [CheckResult("model_size", True, f"{size} bytes <= budget {budget}", details)]
