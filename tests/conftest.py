"""Shared pytest setup: quiet TensorFlow, legacy Keras, real data fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (CI must not pass or fail by luck).
# HYPOTHESIS_PROFILE=explore draws fresh random examples, to hunt for new counterexamples;
# add any it finds as explicit cases.
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/pipeline_utils.py


@pytest.fixture(scope="session")
def penguins_frame():
    """The palmerpenguins data set (344 rows) with rows missing a value dropped."""
    import palmerpenguins

    df = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
    return df


@pytest.fixture
def penguins_csv_dir(tmp_path: Path, penguins_frame) -> Path:
    """A folder holding ``penguins.csv``: 4 numeric features + ``species`` label (int 0-2)."""
    from pipeline_utils import write_penguins_csv

    return write_penguins_csv(penguins_frame, tmp_path / "penguins_data")
