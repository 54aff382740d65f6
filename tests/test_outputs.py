"""Files written by the API: all of them or none."""

from __future__ import annotations

import pytest

from siting.io.atomic import write_folder


def test_write_folder_is_all_or_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("old", encoding="utf-8")

    def boom(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_folder(tmp_path, {"a.txt": lambda p: p.write_text("new", encoding="utf-8"), "b.txt": boom})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary folder left behind
    written = write_folder(tmp_path, {"a.txt": lambda p: p.write_text("new", encoding="utf-8")})
    assert written == [tmp_path / "a.txt"] and written[0].read_text(encoding="utf-8") == "new"


def test_allocation_save_writes_tables_and_figures(tmp_path, guangxi):
    result = guangxi.allocate(target_mw=20_000, method="proportional")
    files = result.save(tmp_path / "alloc", title="test")
    assert [f.name for f in files] == ["allocation.csv", "supply_curve.csv", "supply_curve.png", "supply_curve.svg"]
    assert all(f.stat().st_size > 0 for f in files)


def test_allocate_names_the_document_of_its_target(guangxi):
    result = guangxi.allocate(year=2030)
    assert result.source is not None and result.source["source_document"]
    assert result.target_mw == pytest.approx(float(result.source["value_mw"]))
