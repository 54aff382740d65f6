"""Files shipped inside the package (``siting/data``): plan targets, the wind-fleet tracker, turbines."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_path(*parts: str) -> Path:
    """Path of a packaged data file or folder, e.g. ``data_path("targets.csv")``."""
    return DATA_DIR.joinpath(*parts)


def coal_benchmark_tariffs():
    """The provinces' coal-fired benchmark tariffs (燃煤发电基准价), CNY/kWh: ``province_adcode``, ``province_zh``,
    ``tariff_cny_per_kwh``, ``note`` (source and date in ``siting/data/tariffs/SOURCE.md``)."""
    import pandas as pd

    return pd.read_csv(data_path("tariffs", "coal_benchmark_tariff.csv"), dtype={"province_adcode": str})
