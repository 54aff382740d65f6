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
