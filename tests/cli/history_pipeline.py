"""A small continuous-training pipeline run over three monthly spans, for the run summary and
``drift-history`` tests (real LocalDagRunner, SQLite ML Metadata, real registry).

Per run: CsvExampleGen (span ``{SPAN}``) -> StatisticsGen -> DriftValidator (vs the previous
run's statistics) and a SkewValidator (eval vs train); an Importer brings the span's "trained"
model (a folder with ``metrics.json``), BlessingGate judges it (AUC floor + champion) and
RegistryPusher publishes blessed models with the ``champion`` alias and records refused
candidates (``record_refused=True``).

=====  ======  ===================  =============================================
span   month   model AUC            expected outcome
=====  ======  ===================  =============================================
1      1       0.80                 first model: blessed, pushed as version 1
2      4       0.86                 beats the champion (0.80): pushed as version 2
3      7       0.60                 below the 0.75 floor: refused, recorded as version 3
=====  ======  ===================  =============================================

The data has one feature with a hostile name (:data:`HOSTILE`), to check escaping.

Run by hand: ``PYTHONPATH=src python -m tests.cli.history_pipeline OUT`` (about a minute).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List

PIPELINE = "history-test"
MODEL_NAME = "flights"
HOSTILE = "<img src=x onerror=alert(1)>&amp;"
#: span -> (month of 2013, AUC of the span's model)
SPANS = {1: (1, 0.80), 2: (4, 0.86), 3: (7, 0.60)}
ROWS = 600


def _components(base: Path, span: int) -> List:
    from tfx import v1 as tfx

    from tfx_addons_lab.components import (
        BlessingGate,
        DriftValidator,
        RegistryPusher,
        baseline_statistics_resolver,
    )

    example_gen = tfx.components.CsvExampleGen(
        input_base=str(base / "data"),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern="span-{SPAN}/*")]
        ),
    )
    stats_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    previous = baseline_statistics_resolver(stats_gen)
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        drift_config={"drift_share": 0.5},
    )
    skew = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        comparisons=[{"current": "eval", "baseline": "train"}],
    ).with_id("SkewValidator")
    both = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        comparisons=[("train", "train"), ("eval", "eval")],
    ).with_id("SplitsValidator")
    model_dir = base / "models" / f"span-{span}" / "Format-Serving"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "metrics.json").write_text(json.dumps({"auc": SPANS[span][1]}))
    model = tfx.dsl.Importer(
        source_uri=str(model_dir.parent), artifact_type=tfx.types.standard_artifacts.Model
    ).with_id("model_importer")
    champion = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ModelBlessing, producer_component_id="BlessingGate"
        ),
    ).with_id("champion_resolver")
    gate = BlessingGate(
        model=model.outputs["result"],
        baseline_model=champion.outputs["model"],
        drift_report=drift.outputs["drift_report"],
        metric_thresholds={"auc": {"lower_bound": 0.75}},
        champion_metric="auc",
        min_improvement=0.01,
        require_no_drift=False,
        metrics_source="model",
    )
    pusher = RegistryPusher(
        model=model.outputs["result"],
        model_blessing=gate.outputs["blessing"],
        registry_uri=str(base / "registry"),
        model_name=MODEL_NAME,
        aliases=["champion"],
        record_refused=True,
    )
    return [example_gen, stats_gen, previous, drift, skew, both, model, champion, gate, pusher]


def run_history_pipeline(base: Path) -> Dict[str, object]:
    """Run the pipeline once per span in :data:`SPANS` under ``base``; return the paths and
    the run summary after each run (``"summaries"``: span -> :func:`run_summary` result)."""
    tests = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(tests.parent), str(tests)]  # when run by hand
    from pipeline_utils import run_pipeline
    from tests.components.drift_data import flights_month, write_csv
    from tfx_addons_lab.cli.summary import run_summary

    base = Path(base)
    summaries = {}
    for span, (month, _) in SPANS.items():
        frame = flights_month(month, ROWS)
        frame[HOSTILE] = frame["temp"] * (1.0 + span)
        write_csv(frame, base / "data" / f"span-{span}")
        run = run_pipeline(_components(base, span), base / "run", PIPELINE)
        summaries[span] = run_summary(str(run.metadata_path))
    return {
        "base": base,
        "metadata": run.metadata_path,
        "registry": base / "registry",
        "run": run,
        "summaries": summaries,
    }


if __name__ == "__main__":
    out = Path(sys.argv[1])
    result = run_history_pipeline(out)
    print(result["metadata"])
