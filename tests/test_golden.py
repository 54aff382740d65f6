"""The county tables of Guangxi at 1000 m (PV and wind, with the 2030 targets) stay what they were.

``tests/golden/guangxi_1000m`` holds the CSV files that ``siting report guangxi --year 2030 --out DIR``
wrote before the code was reorganised into sub-packages. A change that is meant to move these numbers
regenerates the files (``python tests/test_golden.py``) and says why in its commit; any other change
must leave them byte for byte identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "guangxi_1000m"
FILES = ("counties.csv", "summary.csv", "waterfall.csv", "targets.csv")


def _write(out: Path) -> None:
    """Regenerate the golden CSV files (only those; the GeoPackage and provenance are not compared)."""
    import shutil
    import tempfile

    import siting

    a = siting.assess("guangxi", resolution_m=1000.0)
    with tempfile.TemporaryDirectory() as tmp:
        a.save(tmp, comparison=a.compare_targets(2030))
        out.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copy(Path(tmp) / name, out / name)


@pytest.mark.slow
def test_guangxi_tables_are_unchanged(tmp_path, guangxi):
    guangxi.save(tmp_path, comparison=guangxi.compare_targets(2030))
    for name in FILES:
        new = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        old = (GOLDEN / name).read_text(encoding="utf-8").splitlines()
        assert len(new) == len(old), f"{name}: {len(new)} lines instead of {len(old)}"
        diff = [(i, o, n) for i, (o, n) in enumerate(zip(old, new)) if o != n]
        assert not diff, f"{name}: {len(diff)} lines differ; first at line {diff[0][0] + 1}:\n{diff[0][1]}\n{diff[0][2]}"


if __name__ == "__main__":  # regenerate the golden files
    _write(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN)
