"""Files shipped inside the package (``siting/data``): plan targets, the wind-fleet tracker, turbines."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_path(*parts: str) -> Path:
    """Path of a packaged data file or folder, e.g. ``data_path("targets.csv")``."""
    return DATA_DIR.joinpath(*parts)
