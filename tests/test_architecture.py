"""Imports point down the data flow: science ← geo ← readers and rules ← energy ← engine ← reference
← outputs ← API ← user interface.

Every ``import`` in every module of the package (module-level and inside functions) is checked against
the tier of the module it names. A module may import its own tier and the tiers below; the science
(``siting.model``) imports no reader, engine or interface module and no I/O library; nothing but the
user interface imports ``siting.ui``. ARCHITECTURE.md describes the tiers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "siting"

TIERS = {
    "errors": 0, "columns": 0, "names": 0, "model": 0,
    "geo": 1,
    "io": 2, "rules": 2,
    "energy": 3,
    "engine": 4,
    "reference": 5,
    "outputs": 6,
    "api": 7, "__init__": 7,
    "ui": 8,
}
# libraries that read or write files, talk to a network or draw: not for the science
IO_LIBRARIES = {"rasterio", "h5py", "geopandas", "pyogrio", "netCDF4", "dask", "distributed", "folium", "typer",
                "rich", "urllib", "http", "requests", "pooch", "matplotlib", "sqlite3", "tomllib", "openpyxl"}


def _part(module: str) -> str | None:
    """The tier name of a dotted module inside the package, e.g. ``siting.io.layers`` → ``io``."""
    parts = module.split(".")
    if parts[0] != "siting":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file, relative imports resolved."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "siting" or (node.level and not node.module):  # from siting import x: x may be a sub-package
                out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, mod))
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_part_has_a_tier():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert parts <= set(TIERS), f"no tier for {sorted(parts - set(TIERS))}: add it to TIERS and ARCHITECTURE.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    bad = []
    for line, mod in _imports(path):
        part = _part(mod)
        if part is None:
            if own == "model" and mod.split(".")[0] in IO_LIBRARIES:
                bad.append(f"line {line}: {mod} (an I/O library in the science)")
            continue
        if part not in TIERS:  # e.g. siting.SitingError imported from the package root
            part = "__init__"
        if TIERS[part] > TIERS[own] or (part == "ui" and own != "ui"):
            bad.append(f"line {line}: {mod} (tier {TIERS[part]} > {own} tier {TIERS[own]})")
    assert not bad, f"{path.relative_to(PACKAGE)} imports upwards:\n" + "\n".join(bad)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test itself can fail: a science module that imports the engine is caught."""
    fake = PACKAGE / "model" / "_probe_upward.py"
    try:
        fake.write_text("from siting.engine.compute import compute_tile\n", encoding="utf-8")
        with pytest.raises(AssertionError, match="imports upwards"):
            test_imports_point_down(fake)
    finally:
        fake.unlink()


def test_cli_starts_without_heavy_imports():
    """``siting --help`` answers at once: the CLI module imports no numerical or GIS library at start-up."""
    import subprocess
    import sys

    heavy = ("numpy", "pandas", "geopandas", "rasterio", "pvlib", "xarray", "dask", "shapely", "scipy", "folium")
    code = ("import sys, siting.ui.cli; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


def test_a_run_on_threads_does_not_import_dask():
    """dask is for runs on a cluster: an assessment on local threads, grid dataset included, does not import it
    (xarray's check for dask arrays would, 0.12-0.25 s of a run); the dataset is the one plain xarray builds."""
    import subprocess
    import sys

    import numpy as np
    import xarray as xr

    from siting.api import _index_variable, _numpy_variable

    code = ("import sys, siting; a = siting.assess('柳州', tech='pv', resolution_m=5000, draws=0); "
            "assert a.grid['pv_usable_fraction'].size > 0; "
            "print(','.join(m for m in ('dask', 'rioxarray', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported by a run: {out.stdout.strip()}"
    a = np.arange(12, dtype="float32").reshape(3, 4)
    fast = xr.Dataset(coords={"y": _index_variable("y", np.arange(3.0)), "x": _index_variable("x", np.arange(4.0))})
    fast["v"] = _numpy_variable(("y", "x"), a)
    plain = xr.Dataset({"v": (("y", "x"), a)}, coords={"y": np.arange(3.0), "x": np.arange(4.0)})
    assert fast.identical(plain) and fast.indexes["x"].equals(plain.indexes["x"])
