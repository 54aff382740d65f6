"""Output columns: declared once, every column of a real table declared, the reference in step."""

from __future__ import annotations

from pathlib import Path

from siting import columns

DOC = Path(__file__).resolve().parent.parent / "docs" / "columns.md"


def test_every_output_column_is_declared(guangxi):
    names = list(guangxi.counties.drop(columns="geometry").columns) + list(guangxi.totals.columns)
    missing = sorted({n for n in names if columns.lookup(n) is None})
    assert not missing, f"declare these in siting/columns.py: {missing}"


def test_patterns_and_units():
    col, parts = columns.lookup("removed_pv_nodata_land_cover_km2")
    assert col is columns.REMOVED_KM2 and parts == {"tech": "pv", "step": "nodata_land_cover"}
    assert columns.REMOVED_KM2("wind", "settlement setback") == "removed_wind_settlement_setback_km2"
    assert columns.units("capacity_pv_mwp") == "MWp" and columns.units("energy_wind_gwh") == "GWh/yr"
    assert columns.label("usable_wind_km2", with_units=True) == "Wind usable (km²)"
    assert columns.is_additive("capacity_wind_mw") and not columns.is_additive("usable_pv_share")
    assert columns.lookup("no_such_column") is None


def test_units_follow_the_naming_convention():
    """A name that ends in a unit suffix declares that unit (the convention of the whole project)."""
    suffix_units = {"_km2": "km²", "_mwp": "MWp", "_mwac": "MW", "_mw": "MW", "_gwh": "GWh/yr", "_share": "1",
                    "_ms": "m/s", "_m": "m"}
    for c in columns.COLUMNS:
        for suffix, unit in suffix_units.items():
            if c.name.endswith(suffix):
                assert c.units == unit, c.name
                break


def test_reference_document_is_current():
    assert DOC.read_text(encoding="utf-8") == columns.reference_markdown(), \
        "docs/columns.md is out of date: python -m siting.columns > docs/columns.md"
