"""``--beam-args`` takes one quoted string of Beam options, in both documented forms."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples.common import (  # noqa: E402
    add_runner_arguments,
    beam_args_from,
    normalize_beam_args,
    parse_args,
)

#: The exact strings the README documents for each Beam runner.
DATAFLOW = "--runner=DataflowRunner --project=P --region=R --temp_location=gs://B/tmp"
FLINK = "--runner=FlinkRunner --flink_master=HOST:8081 --environment_type=LOOPBACK"
SPARK = "--runner=SparkRunner --spark_master_url=spark://HOST:7077 --environment_type=LOOPBACK"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_runner_arguments(parser)
    return parser


@pytest.mark.parametrize("value", [DATAFLOW, FLINK, SPARK, "--direct_num_workers=2"])
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_quoted_beam_args_parse_in_both_forms(value, form):
    argv = ["--beam-args", value] if form == "separate" else [f"--beam-args={value}"]
    args = parse_args(_parser(), ["--runner", "beam", *argv])
    assert args.runner == "beam"  # our own --runner is not confused with Beam's
    assert args.beam_args == value
    assert beam_args_from(args) == value.split()


def test_plain_argparse_rejects_the_separate_form():
    """The bug this guards against: argparse reads the value as our ``--runner`` option."""
    with pytest.raises(SystemExit):
        _parser().parse_args(["--beam-args", DATAFLOW])


def test_normalize_leaves_other_arguments_alone():
    argv = ["--output-dir", "x", "--beam-args", FLINK, "--multi-processing"]
    assert normalize_beam_args(argv) == [
        "--output-dir",
        "x",
        f"--beam-args={FLINK}",
        "--multi-processing",
    ]
    assert normalize_beam_args(["--beam-args"]) == ["--beam-args"]
    args = parse_args(_parser(), ["--beam-args", "--runner=DirectRunner", "--multi-processing"])
    assert beam_args_from(args) == [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    ]


def test_penguin_main_accepts_the_readme_form(monkeypatch, tmp_path):
    """The example's own ``main`` parses the README's command line (only compiled, no run)."""
    from examples.penguin import pipeline as penguin

    seen = {}

    def fake_create_pipeline(output_dir, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(penguin, "create_pipeline", fake_create_pipeline)
    with pytest.raises(SystemExit):
        penguin.main(["--output-dir", str(tmp_path), "--runner", "beam", "--beam-args", FLINK])
    assert seen["beam_pipeline_args"] == FLINK.split()
