"""The example notebook runs top to bottom on the built-in data."""

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser or kernel

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
pytest.importorskip("ipykernel", reason="ipykernel is not installed")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "guangxi.ipynb"


def test_notebook_executes(tmp_path):
    work = tmp_path / "guangxi.ipynb"
    shutil.copy(NOTEBOOK, work)
    nb = nbformat.read(work, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("text", "")) for o in outputs)
    assert "GWp" in text and "广西壮族自治区" in text and "leaflet" in text.lower()
    assert "Offshore foundation type (fixed-bottom or floating) not computed" in text and "sea_far_12nm_100km_km2" in text
    assert "economic_achievable_mw" in text and "the last block taken costs" in text
