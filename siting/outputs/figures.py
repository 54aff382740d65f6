"""Static figures: the tornado of the assumptions that move the totals most, and saving figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting.io.atomic import atomic_path


def tornado_figure(sensitivity: pd.DataFrame, path: str | Path, title: str = "", top: int = 12) -> Path:
    """Horizontal bars: the change of each technology's total (energy where known, else capacity), in %,
    with one assumption at its low and at its high end (PNG, SVG or PDF by extension)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = sensitivity.head(top).iloc[::-1]
    use_gwh = df["gwh_default"].notna()
    base = df["gwh_default"].where(use_gwh, df["mw_default"]).astype(float)
    low = (df["gwh_at_low"].where(use_gwh, df["mw_at_low"]).astype(float) / base - 1) * 100
    high = (df["gwh_at_high"].where(use_gwh, df["mw_at_high"]).astype(float) / base - 1) * 100
    labels = [f"{a} ({lo:g}–{hi:g}){'' if g else ' [MW]'}" for a, lo, hi, g in
              zip(df["assumption"], df["low"], df["high"], use_gwh)]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(df) + 1.2), dpi=130)
    y = range(len(df))
    ax.barh(y, low, color="#0072b2", label="at low end")
    ax.barh(y, high, color="#e69f00", label="at high end")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xlabel("change of the technology's total (energy; [MW]: capacity) %")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Serif CJK SC")


def cjk_font() -> str | None:
    """Use the first Chinese-capable font installed for matplotlib text (with DejaVu Sans for the rest).

    Returns its name, or None when none is installed (figures then fall back to pinyin).
    """
    import matplotlib
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if not names & set(CJK_FONTS):  # fonts installed after matplotlib built its cache: register them now
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name.lower() for k in ("cjk", "sourcehan", "wqy", "wenquanyi", "msyh", "simhei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
            matplotlib.rcParams["font.family"] = "sans-serif"
            return name
    return None


def save_figure(fig, path: str | Path) -> Path:
    """Lay out, write atomically (format by extension) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return path


TECH_COLOURS = {"pv": "#e69f00", "agri_pv": "#009e73", "fishery_pv": "#56b4e9", "rooftop_pv": "#d55e00",
                "wind": "#0072b2", "offshore": "#332288"}
TECH_ZH = {"pv": "地面光伏", "agri_pv": "农光互补", "fishery_pv": "渔光互补", "rooftop_pv": "屋顶光伏", "wind": "陆上风电",
           "offshore": "海上风电"}


def plot_cost_curve(allocation, path: str | Path, title: str = "") -> Path:
    """The LCOE supply curve (CNY/kWh against cumulative GW) with the target to build, the existing capacity and
    the tariff marked; labels in Chinese and English (pinyin-free English only when no Chinese font is installed).

    Parameters
    ----------
    allocation : siting.reference.allocate.Allocation
        A ``cost`` allocation (its ``curve`` holds the blocks cheapest first).
    path : str or Path
        .png, .svg or .pdf.
    title : str
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    zh = cjk_font() is not None
    curve = allocation.curve
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    left = 0.0
    for b in curve.itertuples():
        ax.bar(left / 1000.0, b.lcoe_cny_per_kwh, width=b.capacity_mw / 1000.0, align="edge",
               color=TECH_COLOURS.get(b.tech, "grey"), edgecolor="none")
        left += b.capacity_mw
    if allocation.target_mw:
        x = allocation.target_mw / 1000.0
        ax.axvline(x, color="black", linestyle="--", linewidth=1)
        label = f"target to build {x:,.1f} GW" + (f"\n待建目标" if zh else "")
        if allocation.existing_mw:
            label += (f"\n(plan {allocation.target_total_mw / 1000:,.1f} GW − existing {allocation.existing_mw / 1000:,.1f} GW)"
                      + ("\n规划目标减已建" if zh else ""))
        ax.annotate(label, (x, 0.02), xycoords=("data", "axes fraction"), ha="left", va="bottom", fontsize=8)
    tariffs = sorted(set(curve["tariff_cny_per_kwh"].dropna().round(4))) if "tariff_cny_per_kwh" in curve else []
    for v in tariffs[:3]:
        ax.axhline(v, color="#444444", linestyle=":", linewidth=1)
        ax.annotate(("燃煤基准价 " if zh else "") + f"coal benchmark {v:.4f}", (0.99, v), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=8)
    techs = [t for t in TECH_COLOURS if t in set(curve.tech)]
    handles = [plt.Rectangle((0, 0), 1, 1, color=TECH_COLOURS[t]) for t in techs]
    ax.legend(handles, [f"{t} {TECH_ZH[t]}" if zh else t for t in techs], loc="upper left", fontsize=8)
    ax.set_xlabel("累计容量 cumulative capacity (GW)" if zh else "cumulative capacity (GW)")
    ax.set_ylabel("平准化度电成本 LCOE (元/kWh, CNY/kWh)" if zh else "LCOE (CNY/kWh)")
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)
