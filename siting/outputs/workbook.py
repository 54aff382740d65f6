"""One Excel workbook of a run, for people who plan in spreadsheets.

Sheets: notes (what to read first, the inputs and their licences), counties, totals (city, province and
region subtotals), waterfall, and targets (the plan comparison, or why there is none). Every table sheet
starts with four header rows: the column name as in the CSV files, the English label, the Chinese label
and the units; the data follow, rounded as :mod:`siting.columns` declares, with shares shown as
percentages. Panes are frozen below the headers and right of the names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from siting import columns

HEADER_ROWS = ("name", "English", "中文", "units")
_PERCENT = "0.00%"


def _number_format(name: str) -> str | None:
    units, places = columns.units(name), columns.decimals(name)
    if places is None:
        return None
    if units == "1" and name not in ("ratio",):
        return _PERCENT
    return "#,##0" if places == 0 else "#,##0." + "0" * places


def _cell(value):
    """A value openpyxl can write: NaN and NA become empty cells, numpy scalars plain Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _table_sheet(wb, title: str, df: pd.DataFrame, freeze_cols: int = 0) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    df = columns.rounded(pd.DataFrame(df).drop(columns="geometry", errors="ignore"))
    names = list(df.columns)
    headers = (names, [columns.label(n) for n in names], [columns.label_zh(n) for n in names],
               [columns.units(n) if columns.units(n) != "1" else ("%" if _number_format(n) == _PERCENT else "")
                for n in names])
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="EEEEEE")
    for row in headers:
        ws.append(row)
    for r in range(1, len(HEADER_ROWS) + 1):
        for c in range(1, len(names) + 1):
            ws.cell(r, c).fill = grey
            if r <= 3:
                ws.cell(r, c).font = bold
    for values in df.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in values])
    for j, name in enumerate(names, start=1):
        fmt = _number_format(name)
        letter = get_column_letter(j)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=len(HEADER_ROWS) + 1, min_col=j, max_col=j):
                cell.number_format = fmt
        widest = max([len(str(h[j - 1])) for h in headers[1:]] + [8])
        ws.column_dimensions[letter].width = min(40, widest + 2)
    ws.freeze_panes = ws.cell(len(HEADER_ROWS) + 1, freeze_cols + 1)


def _notes_sheet(wb, a, comparison) -> None:
    from openpyxl.styles import Font

    ws = wb.active
    ws.title = "notes 说明"
    prov = a.provenance
    where = a.region.label if a.region is not None else f"boundaries {prov['boundaries']['source']}"
    rows = [("siting report", where),
            ("scenario", a.scenario.meta.name),
            ("technologies", ", ".join(a.technologies)),
            ("grid", f"{prov['grid']['resolution_m']:g} m, China Albers equal-area"),
            ("made", f"{prov.get('created_utc', '')} UTC · siting {prov.get('version', '')}"),
            ("targets", "compared (sheet 'targets')" if comparison is not None else
             "not compared: run with --year YEAR (e.g. 2030)"),
            ("", ""), ("Read before using these numbers", "")]
    rows += [("•", n) for n in a.notes] or [("•", "no notes")]
    rows += [("", ""), ("Inputs", "source · licence")]
    for item in prov.get("inputs", []):
        rows.append((str(item.get("layer", "")), f"{item.get('source', '')} · {item.get('licence', '') or '–'}"))
    for r, row in enumerate(rows, start=1):
        ws.append(list(row))
        if row[0] in ("siting report", "Read before using these numbers", "Inputs"):
            ws.cell(r, 1).font = Font(bold=True)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 140


def write_workbook(path, a, comparison: pd.DataFrame | None = None):
    """Write the workbook of assessment ``a`` (and its target comparison) to ``path`` (.xlsx).

    Parameters
    ----------
    path : str, Path or binary file
        The file to write (or a file object open for binary writing).
    a : siting.Assessment
    comparison : DataFrame, optional
        :meth:`siting.Assessment.compare_targets`; without it the targets sheet says how to get one.
    """
    from openpyxl import Workbook

    wb = Workbook()
    _notes_sheet(wb, a, comparison)
    ids = ["adcode", "name_zh"]
    _table_sheet(wb, "counties 县", a.counties, freeze_cols=2)
    _table_sheet(wb, "totals 汇总", a.totals, freeze_cols=3)
    _table_sheet(wb, "waterfall 排除", a.waterfall(), freeze_cols=len(ids))
    if comparison is not None:
        _table_sheet(wb, "targets 目标", comparison, freeze_cols=3)
    else:
        ws = wb.create_sheet("targets 目标")
        ws.append(["not compared: run siting report with --year YEAR (e.g. 2030) to compare with the plans' targets"])
    if isinstance(path, (str, Path)):
        path = Path(path)
    wb.save(path)
    return path
