"""Interactive HTML maps (folium / Leaflet) and static figures of an assessment.

One self-contained HTML file per map: Leaflet and its plugins are inlined
from ``siting/static`` (no CDN), county polygons and raster overlays are
embedded, so the map stays readable without network (base-map tiles are an
optional overlay). Every text that comes from data is HTML-escaped.

Layers
------
- county choropleths, one at a time (radio buttons): capacity, energy, yield,
  usable share, target coverage; quantile class breaks, a legend per layer;
- raster overlays (checkboxes): usable share per technology and the
  resource layers, with an opacity slider;
- city and province outlines; county search (Chinese or pinyin); fullscreen;
  scale bar.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import xarray as xr

from siting import columns
from siting.io.atomic import atomic_path

STATIC = Path(__file__).resolve().parent / "static"
# Vendored assets, inlined into the page header in this order (Leaflet before its plugins).
_ASSETS = [("leaflet_css", "leaflet.css"), ("leaflet", "leaflet.js"),
           ("fullscreen_css", "Control.FullScreen.css"), ("fullscreen", "Control.FullScreen.js"),
           ("search_css", "leaflet-search.min.css"), ("search", "leaflet-search.min.js")]


@dataclass(frozen=True)
class Layer:
    """A county choropleth: a column of the county table (label and units from :mod:`siting.columns`)."""

    column: str
    colours: str  # matplotlib colormap name (quantile classes), unused for categorical layers
    digits: int = 0
    categorical: bool = False

    @property
    def label(self) -> str:
        return columns.label(self.column)

    @property
    def units(self) -> str:
        u = columns.units(self.column)
        return "share" if u == "1" else u

    @property
    def key(self) -> str:
        return self.label if self.categorical or not self.units else f"{self.label} ({self.units})"


# colours of the kinds of constraint (binding layers), fixed so that maps can be compared
CATEGORY_COLOURS = {"protection": "#1b9e77", "land cover": "#d95f02", "terrain": "#7570b3", "resource": "#e7298a",
                    "setback": "#66a61e", "patch size": "#e6ab02", "data gap": "#a6761d", "other": "#666666",
                    # what limits the achievable capacity (binding_limit)
                    "hosting capacity": "#e41a1c", "cost (grid parity)": "#ff7f00", "land and rules": "#4daf4a"}


CHOROPLETHS = [
    Layer("capacity_pv_mwp", "YlOrRd"),
    Layer("capacity_wind_mw", "PuBu"),
    Layer("energy_pv_gwh", "YlOrBr"),
    Layer("energy_wind_gwh", "GnBu"),
    Layer("specific_yield_kwh_per_kwp", "plasma", 0),
    Layer("usable_pv_share", "Greens", 2),
    Layer("usable_wind_share", "BuGn", 2),
    Layer("binding_pv_category", "", categorical=True),
    Layer("binding_wind_category", "", categorical=True),
    Layer("capacity_agri_pv_mwp", "YlGn"),
    Layer("capacity_fishery_pv_mwp", "Blues"),
    Layer("capacity_rooftop_pv_mwp", "OrRd"),
    Layer("capacity_offshore_mw", "Blues"),
    Layer("capacity_offshore_fixed_mw", "PuBu"),
    Layer("capacity_offshore_floating_mw", "BuPu"),
    Layer("energy_offshore_gwh", "GnBu"),
    Layer("binding_offshore_category", "", categorical=True),
    Layer("lcoe_pv_cny_per_kwh", "RdYlGn_r", 3),
    Layer("lcoe_wind_cny_per_kwh", "RdYlGn_r", 3),
    Layer("lcoe_offshore_cny_per_kwh", "RdYlGn_r", 3),
    Layer("grid_distance_pv_km", "magma_r", 1),
    Layer("grid_distance_wind_km", "magma_r", 1),
    Layer("economic_mw", "YlGn"),
    Layer("economic_achievable_mw", "Greens"),
    Layer("binding_limit", "", categorical=True),
    Layer("target_share_mw", "RdPu"),
    Layer("capacity_mw_diff", "RdBu"),
]
RASTERS = [
    ("pv_usable_fraction", "PV usable share (grid)", "YlOrRd", 0.0, 1.0),
    ("wind_usable_fraction", "Wind usable share (grid)", "PuBu", 0.0, 1.0),
    ("ghi_kwh_per_m2_yr", "GHI kWh/m²/yr (grid)", "inferno", None, None),
    ("pv_specific_yield_kwh_per_kwp", "PV yield kWh/kWp (grid)", "plasma", None, None),
    ("wind_speed_hub_ms", "Wind speed at hub m/s (grid)", "viridis", None, None),
    ("agri_pv_usable_fraction", "Agri-PV usable share (grid)", "YlGn", 0.0, 1.0),
    ("fishery_pv_usable_fraction", "Fishery PV usable share (grid)", "Blues", 0.0, 1.0),
    ("rooftop_pv_usable_fraction", "Rooftop PV usable roof share (grid)", "OrRd", 0.0, None),
    ("grid_distance_km", "Distance to the grid km (grid)", "magma_r", 0.0, None),
]
# offshore wind: rasters of the sea areas' grid (Assessment.sea_grid)
SEA_RASTERS = [
    ("offshore_usable_fraction", "Offshore usable share (sea grid)", "Blues", 0.0, 1.0),
    ("water_depth_m", "Water depth m (sea grid)", "YlGnBu", 0.0, None),
    ("foundation", "Foundation type (sea grid)", "Set2", None, None),
    ("sea_band", "Distance-to-shore band (sea grid)", "Purples", None, None),
]


def sea_layers(a) -> list[tuple]:
    """The sea grid's variables to draw, with a foundation-type class (1 = the shallowest type ...) made from the
    water depth, and legends that name the bands and foundation types: ``(DataArray, label, cmap, vmin, vmax)``."""
    ds = a.sea_grid
    if "region_fraction" not in ds:
        return []
    spec = a.plan.tech_specs.get("offshore") if a.plan is not None else None
    if spec is None and getattr(a.scenario, "offshore", None) is not None:
        spec = a.scenario.offshore
    out = []
    for var, label, cmap, vmin, vmax in SEA_RASTERS:
        da = None
        if var == "foundation" and "water_depth_m" in ds and spec is not None and spec.foundations:
            depth, cls = ds["water_depth_m"], xr.zeros_like(ds["water_depth_m"])
            names = []
            for k, (name, lo, hi, _) in enumerate(spec.foundation_bands(), start=1):
                cls = xr.where((depth <= hi) & ((depth > lo) if lo > 0 else True), k, cls)
                names.append(f"{k} {name} {lo:g}-{hi:g} m")
            da, label, vmin, vmax = cls.where(cls > 0), f"{label}: {', '.join(names)}", 1, len(names)
        elif var == "sea_band" and var in ds:
            names = (spec.sea_band_names if spec is not None else None) or []
            da = ds[var].where(ds[var] > 0)
            label = f"{label}: " + ", ".join(f"{k} {n}" for k, n in enumerate(names, start=1)) if names else label
            vmin, vmax = 1, max(1, len(names))
        elif var in ds:
            da = ds[var]
        if da is not None:
            out.append((da.where(ds["region_fraction"] > 0), label, cmap, vmin, vmax))
    return out


def quantile_breaks(values: np.ndarray, n_classes: int = 5) -> list[float]:
    """Class breaks at quantiles of the finite values (unique, ascending, including min and max)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [0.0, 1.0]
    qs = np.unique(np.quantile(v, np.linspace(0, 1, n_classes + 1)))
    if qs.size == 1:
        qs = np.array([qs[0], qs[0] + 1.0])
    return [float(x) for x in qs]


def _hex_colours(cmap: str, n: int) -> list[str]:
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return [matplotlib.colors.to_hex(cm(x)) for x in np.linspace(0.15, 0.95, max(n, 1))]


def _class_of(value: float, breaks: list[float]) -> int:
    if value is None or not np.isfinite(value):
        return -1
    return int(min(max(np.searchsorted(breaks, value, side="right") - 1, 0), len(breaks) - 2))


def _fmt(value, digits=0) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _esc(text) -> str:
    return html.escape("" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text))


def _popup_html(row: pd.Series, a, coarse: bool) -> str:
    lines = [f"<b>{_esc(row['name_zh'])}</b> {_esc(row.get('name_pinyin'))}<br>"
             f"<small>{_esc(row.get('city_zh'))} · adcode {_esc(row['adcode'])}</small>",
             "<table class='siting-kv'>"]
    for col, label, unit, d in (("area_km2", "Area", "km²", 0), ("capacity_pv_mwp", "Ground PV", "MWp", 0),
                                ("energy_pv_gwh", "Ground PV energy", "GWh/yr", 0),
                                ("specific_yield_kwh_per_kwp", "Ground PV yield", "kWh/kWp", 0),
                                ("capacity_agri_pv_mwp", "Agri-PV 农光", "MWp", 0),
                                ("capacity_fishery_pv_mwp", "Fishery PV 渔光", "MWp", 0),
                                ("capacity_rooftop_pv_mwp", "Rooftop PV 屋顶", "MWp", 0),
                                ("capacity_wind_mw", "Wind", "MW", 0), ("energy_wind_gwh", "Wind energy", "GWh/yr", 0),
                                ("capacity_offshore_mw", "Offshore wind 海上", "MW", 0),
                                ("sea_area_km2", "Sea area", "km²", 0),
                                ("capacity_factor_wind", "Wind CF", "", 3)):
        if col in row.index:
            lines.append(f"<tr><td>{label}</td><td style='text-align:right'>{_fmt(row[col], d)} {unit}</td></tr>")
    for col, label, unit in (("capacity_pv_mwp", "Ground PV P10–P90", "MWp"), ("capacity_agri_pv_mwp", "Agri-PV P10–P90",
                             "MWp"), ("capacity_rooftop_pv_mwp", "Rooftop PV P10–P90", "MWp"),
                             ("capacity_wind_mw", "Wind P10–P90", "MW")):
        if f"{col}_p10" in row.index:
            lines.append(f"<tr><td>{label}</td><td style='text-align:right'>{_fmt(row[f'{col}_p10'])}–"
                         f"{_fmt(row[f'{col}_p90'])} {unit}</td></tr>")
    for tech, label in (("pv", "Ground PV binds"), ("agri_pv", "Agri-PV binds"), ("fishery_pv", "Fishery PV binds"),
                        ("wind", "Wind binds")):
        if isinstance(row.get(f"binding_{tech}"), str):
            lines.append(f"<tr><td>{label}</td><td style='text-align:right'>{_esc(row[f'binding_{tech}'])} "
                         f"({_esc(row.get(f'binding_{tech}_category'))})</td></tr>")
    lines.append("</table>")
    for tech in a.technologies:
        steps = a.provenance["steps"][tech]
        total = columns.whole_area(row, tech)
        lines.append(f"<div class='siting-wf'><b>{_esc(getattr(a.scenario, tech).label)}: exclusions</b><table>")
        remaining = total
        for step, col in steps.items():
            removed = row[col]
            remaining -= removed
            width = 0 if total <= 0 else max(0.0, min(100.0, 100.0 * remaining / total))
            shown = _fmt(abs(removed))
            sign = "" if shown in ("0", "–") else ("−" if removed > 0 else "+")
            lines.append(f"<tr><td>{_esc(step)}</td><td style='text-align:right'>{sign}{shown} km²</td>"
                         f"<td><div style='background:#5a9;height:8px;width:{width:.0f}px'></div></td></tr>")
        lines.append(f"<tr><td><b>usable</b></td><td style='text-align:right'><b>{_fmt(remaining)} km²</b></td>"
                     "<td></td></tr></table></div>")
    if coarse:
        lines.append("<div class='siting-note'>Coarse built-in data: indicative only.</div>")
    return "".join(lines)


def _simplify(geoms: np.ndarray, tolerance_deg: float) -> np.ndarray:
    """Topology-preserving simplification of a polygon coverage (shared edges stay shared)."""
    try:
        return shapely.coverage_simplify(geoms, tolerance_deg)
    except Exception:  # invalid coverage (overlaps in user data): fall back to per-polygon simplification
        return shapely.simplify(geoms, tolerance_deg, preserve_topology=True)


def _target_share(a, comparison: pd.DataFrame | None) -> pd.Series:
    """Each county's part of the region's wind + PV target (minus existing), by merit-order allocation.

    Targets stay at their own level (province, city): a county has no target of its own, so the map shows
    what an allocation of the region's target gives it, not its city's ratio. NaN when the region has no
    such target or nothing to allocate.
    """
    out = pd.Series(np.nan, index=a.counties.index)
    if comparison is None or comparison.empty or a.region is None:
        return out
    years = comparison.loc[comparison.scope == "wind+pv", "target_year"].dropna()
    if years.empty:
        return out
    try:
        alloc = a.allocate(year=int(years.max()), method="proportional")
    except Exception:  # no target of the region itself (a city's targets only), or nothing left to allocate
        return out
    share = dict(zip(alloc.counties.adcode, alloc.counties.allocated_mw))
    return a.counties["adcode"].map(share).astype("float64")


def _raster_png(da, cmap: str, vmin, vmax) -> tuple[str, list[list[float]]] | None:
    """Reproject a grid variable to Web Mercator, colour it, return (data URL, lat/lon bounds)."""
    import matplotlib
    import rasterio.warp
    from affine import Affine
    from PIL import Image
    from rasterio.enums import Resampling

    data = np.asarray(da.values, dtype="float32")
    if not np.isfinite(data).any():
        return None
    ys, xs = da["y"].values, da["x"].values
    res = float(abs(xs[1] - xs[0])) if xs.size > 1 else 1000.0
    src_t = Affine(res, 0, float(xs[0]) - res / 2, 0, -res, float(ys[0]) + res / 2)
    crs = da.attrs["crs"]
    dst_t, w, h = rasterio.warp.calculate_default_transform(crs, "EPSG:3857", data.shape[1], data.shape[0],
                                                            *rasterio.transform.array_bounds(*data.shape, src_t))
    scale = max(1.0, max(w, h) / 1600.0)  # keep images small: at most ~1,600 px a side
    w2, h2 = int(w / scale), int(h / scale)
    dst_t = dst_t * Affine.scale(w / w2, h / h2)
    out = np.full((h2, w2), np.nan, dtype="float32")
    rasterio.warp.reproject(data, out, src_transform=src_t, src_crs=crs, src_nodata=np.nan, dst_transform=dst_t,
                            dst_crs="EPSG:3857", dst_nodata=np.nan, resampling=Resampling.nearest)
    lo = np.nanmin(out) if vmin is None else vmin
    hi = np.nanmax(out) if vmax is None else vmax
    norm = np.clip((out - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    rgba = (matplotlib.colormaps[cmap](norm) * 255).astype("uint8")
    rgba[..., 3] = np.where(np.isfinite(out), 255, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", optimize=True)
    left, bottom, right, top = rasterio.transform.array_bounds(h2, w2, dst_t)
    lon, lat = rasterio.warp.transform("EPSG:3857", "EPSG:4326", [left, right], [bottom, top])
    return ("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
            [[lat[0], lon[0]], [lat[1], lon[1]]], (float(lo), float(hi)))


def _legend_html(key: str, title: str, breaks: list[float] | None, colours: list[str], digits: int, visible: bool,
                 labels: list[str] | None = None) -> str:
    swatch = "<div><span style='background:{};display:inline-block;width:14px;height:10px;margin-right:4px'></span>{}</div>"
    if labels is not None:
        rows = "".join(swatch.format(c, html.escape(lab)) for c, lab in zip(colours, labels))
        rows += swatch.format("#cccccc", "nothing removed")
        return (f"<div class='siting-legend' data-layer='{html.escape(key)}' "
                f"style='display:{'block' if visible else 'none'}'><b>{html.escape(title)}</b><br>"
                f"<small>kind of constraint that removed the most land</small>{rows}</div>")
    rows = "".join(
        f"<div><span style='background:{c};display:inline-block;width:14px;height:10px;margin-right:4px'></span>"
        f"{_fmt(lo, digits)} – {_fmt(hi, digits)}</div>" for c, lo, hi in zip(colours, breaks[:-1], breaks[1:]))
    rows += "<div><span style='background:#cccccc;display:inline-block;width:14px;height:10px;margin-right:4px'>" \
            "</span>no data</div>"
    return (f"<div class='siting-legend' data-layer='{html.escape(key)}' style='display:{'block' if visible else 'none'}'>"
            f"<b>{html.escape(title)}</b><br><small>quantile classes</small>{rows}</div>")


def _feature_collection(counties: pd.DataFrame, geoms, a, layers, coarse: bool) -> dict:
    """One GeoJSON FeatureCollection with every layer's value, class and label (texts pre-escaped)."""
    classes, texts = {}, {}
    meta = []
    for lay in layers:
        if lay.categorical:
            raw = counties[lay.column].tolist()
            present = [k for k in CATEGORY_COLOURS if k in set(raw)]
            colours = [CATEGORY_COLOURS[k] for k in present]
            classes[lay.column] = [present.index(v) if v in present else -1 for v in raw]
            texts[lay.column] = [_esc(v) if isinstance(v, str) else "–" for v in raw]
            meta.append({"key": html.escape(lay.key), "column": lay.column, "colours": colours,
                         "css": re.sub(r"[^a-z0-9]+", "-", lay.column), "labels": present, "digits": 0})
            continue
        vals = counties[lay.column].to_numpy(dtype="float64")
        breaks = quantile_breaks(vals)
        colours = _hex_colours(lay.colours, len(breaks) - 1)
        classes[lay.column] = [_class_of(v, breaks) for v in vals]
        texts[lay.column] = [f"{_fmt(v, lay.digits)} {lay.units}" for v in vals]
        meta.append({"key": html.escape(lay.key), "column": lay.column, "colours": colours,
                     "css": re.sub(r"[^a-z0-9]+", "-", lay.column), "breaks": breaks, "digits": lay.digits})
    features = []
    for i, (row, g) in enumerate(zip(counties.to_dict("records"), geoms)):
        row = pd.Series(row)
        props = {"adcode": _esc(row["adcode"]), "name_zh": _esc(row["name_zh"]),
                 "name_pinyin": _esc(row["name_pinyin"]), "city_zh": _esc(row.get("city_zh")),
                 "search": f"{_esc(row['name_zh'])} {_esc(row['name_pinyin'])}",
                 "popup": _popup_html(row, a, coarse),
                 "c": {m["column"]: classes[m["column"]][i] for m in meta},
                 "t": {m["column"]: texts[m["column"]][i] for m in meta}}
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props})
    return {"type": "FeatureCollection", "features": features}, meta


def make_map(a, comparison: pd.DataFrame | None = None, simplify_tolerance_deg: float | None = None,
             extra: dict[str, pd.Series] | None = None):
    """Build the interactive map of an assessment.

    Parameters
    ----------
    a : siting.Assessment
    comparison : DataFrame, optional
        Target comparison (adds the target-coverage layer).
    simplify_tolerance_deg : float, optional
        Simplification tolerance; default from the region's extent.
    extra : dict of str to Series, optional
        More county columns to draw (declared in :mod:`siting.columns` and listed in ``CHOROPLETHS``),
        e.g. ``capacity_mw_diff`` from a scenario comparison.

    Returns
    -------
    folium.Map
    """
    import folium
    from folium import plugins

    counties = a.counties.reset_index(drop=True).copy()
    counties["target_share_mw"] = _target_share(a, comparison)
    for name, values in (extra or {}).items():
        counties[name] = np.asarray(values)
    west, south, east, north = counties.total_bounds
    tol = simplify_tolerance_deg or max(0.0005, 0.0004 * max(east - west, north - south))
    geoms = shapely.set_precision(_simplify(counties.geometry.to_numpy(), tol), 1e-5)
    coarse = any(i.get("coarse") for i in a.provenance["inputs"])
    layers = [lay for lay in CHOROPLETHS if lay.column in counties and counties[lay.column].notna().any()]
    fc, meta = _feature_collection(counties, geoms, a, layers, coarse)

    cities_fc = None
    if counties["city_zh"].notna().any():
        cities = counties.assign(geometry=geoms).dissolve(by="city_zh", as_index=False)[["city_zh", "geometry"]]
        cities["city_zh"] = cities["city_zh"].map(_esc)
        cities_fc = json.loads(cities.to_json())

    rasters = []
    drawn = [(a.grid[var].where(a.grid["region_fraction"] > 0), label, cmap, vmin, vmax)
             for var, label, cmap, vmin, vmax in RASTERS if var in a.grid] + sea_layers(a)
    for da, label, cmap, vmin, vmax in drawn:
        da.attrs["crs"] = a.provenance["grid"]["crs"]
        made = _raster_png(da, cmap, vmin, vmax)
        if made is not None:
            url, bounds, (lo, hi) = made
            rasters.append({"name": html.escape(f"{label} [{lo:,.4g}–{hi:,.4g}]"), "url": url, "bounds": bounds})

    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True,
                   zoom_snap=0.25)
    m.fit_bounds([[south, west], [north, east]])
    fullscreen = plugins.Fullscreen(position="topleft").add_to(m)
    _offline(m, [m, fullscreen])

    legends = [_legend_html(x["key"], x["key"], x.get("breaks"), x["colours"], x["digits"], k == 0, x.get("labels"))
               for k, x in enumerate(meta)]
    title = a.region.label if a.region else "user boundaries"
    note = (" · coarse built-in data: indicative only" if coarse else "")
    if a.provenance.get("drawn_from_results"):
        note += f" · from the results folder written {str(a.provenance.get('created_utc', '?'))[:16]} UTC"
    panel = (f"<div id='siting-panel'><b>{_esc(title)}</b><br><small>scenario {_esc(a.scenario.meta.name)} · "
             f"{a.provenance['grid']['resolution_m']:g} m grid{_esc(note)}</small>"
             f"<div id='siting-legends'>{''.join(legends)}</div>"
             "<div><small>raster opacity</small><br><input id='siting-opacity' type='range' min='0' max='100' "
             "value='70'></div></div>")
    m.get_root().html.add_child(folium.Element(panel + _PANEL_CSS))
    data = {"counties": fc, "layers": meta, "cities": cities_fc, "rasters": rasters}
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    script = _MAP_JS.replace("__MAP__", m.get_name()).replace("__DATA__", blob)
    m.add_child(_Script(script))
    # in a notebook, show the self-contained page (no CDN needed) rather than folium's default
    m._repr_html_ = lambda **_kw: _iframe(map_html(m))
    return m


def _iframe(page: str, height_px: int = 600) -> str:
    """An iframe holding a whole HTML page inline, for notebooks."""
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{height_px}px;border:none"'
            ' sandbox="allow-scripts allow-same-origin"></iframe>')


def _Script(code: str):
    """A map child whose JavaScript runs after the map object exists."""
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._name = "SitingLayers"
    el._template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")
    el.code = code
    return el


_PANEL_CSS = """<style>
.leaflet-container,.leaflet-popup-content,.leaflet-tooltip,.leaflet-control-layers,.leaflet-control-search{
 font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",
 "Helvetica Neue",Arial,sans-serif}
#siting-panel{position:absolute;bottom:24px;right:10px;z-index:1000;background:rgba(255,255,255,.92);
 padding:6px 8px;border-radius:4px;font:12px/1.4 "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",sans-serif;max-width:260px;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.siting-kv td{padding:0 6px 0 0}.siting-wf table{font-size:11px}.siting-note{color:#a60;font-size:11px}
</style>"""

_MAP_JS = """
(function(){
  var map = __MAP__;
  var D = __DATA__;
  var base = {}, overlays = {};
  window.sitingLayers = base;
  D.layers.forEach(function(lay, k){
    var g = L.geoJSON(D.counties, {
      style: function(f){
        var c = f.properties.c[lay.column];
        return {fillColor: c >= 0 ? lay.colours[c] : '#cccccc', color: '#555555', weight: 0.6, fillOpacity: 0.75,
                className: 'county county-' + lay.css};
      },
      onEachFeature: function(f, l){
        var p = f.properties;
        l.bindTooltip('<b>' + p.name_zh + '</b> ' + p.name_pinyin + '<br>' + lay.key + ': ' + p.t[lay.column]);
        l.bindPopup(p.popup, {maxWidth: 420});
        l.on('mouseover', function(){ l.setStyle({weight: 2.5, color: '#000000'}); });
        l.on('mouseout', function(){ g.resetStyle(l); });
      }
    });
    base[lay.key] = g;
    if (k === 0) { g.addTo(map); }
  });
  if (D.cities) {
    overlays['City outlines'] = L.geoJSON(D.cities, {style: {fill: false, color: '#222222', weight: 1.6},
                                                     interactive: false}).addTo(map);
  }
  var names = L.geoJSON(D.counties, {style: {fill: false, color: '#444444', weight: 0.4}, interactive: false});
  D.rasters.forEach(function(r){
    overlays[r.name] = L.imageOverlay(r.url, r.bounds, {opacity: 0.7, className: 'siting-raster'});
  });
  overlays['Base map: OpenStreetMap (needs network)'] = L.tileLayer(
    'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
    {maxZoom: 19, attribution: '&copy; OpenStreetMap contributors'});
  L.control.layers(base, overlays, {collapsed: window.innerWidth < 1500 || window.innerHeight < 800}).addTo(map);
  var search = new L.Control.Search({layer: names, propertyName: 'search', marker: false, initial: false,
    collapsed: false, zoom: 9, textPlaceholder: '县名 / county (pinyin)', position: 'topleft'});
  search.on('search:locationfound', function(e){
    var ad = e.layer.feature.properties.adcode;
    map.eachLayer(function(l){
      if (l.feature && l.feature.properties && l.feature.properties.adcode === ad && l.getPopup && l.getPopup()) {
        l.openPopup();
      }
    });
  });
  map.addControl(search);
  map.on('baselayerchange', function(e){
    document.querySelectorAll('.siting-legend').forEach(function(el){
      el.style.display = (el.getAttribute('data-layer') === e.name) ? 'block' : 'none';
    });
  });
  var slider = document.getElementById('siting-opacity');
  if (slider) { slider.addEventListener('input', function(){
    var v = slider.value / 100;
    Object.keys(overlays).forEach(function(k){ if (overlays[k] instanceof L.ImageOverlay) { overlays[k].setOpacity(v); } });
  }); }
})();
"""


def _offline(m, elements) -> None:
    """Make the page self-contained: the elements link no CDN file, the vendored assets are inlined.

    folium renders an element's ``default_js`` / ``default_css`` lists as links in the page header;
    emptying them on these instances (folium's own mechanism for replacing its assets) leaves only
    what is added here, from ``siting/outputs/static``.
    """
    import folium

    for el in elements:
        el.default_js, el.default_css = [], []
    header = m.get_root().header
    for name, filename in _ASSETS:
        text = (STATIC / filename).read_text(encoding="utf-8")
        tag = "style" if filename.endswith(".css") else "script"
        header.add_child(folium.Element(f"<{tag}>{text}</{tag}>"), name=name)


def map_html(m) -> str:
    """Self-contained HTML text of a folium map made by :func:`make_map`.

    Raises
    ------
    ValueError
        If the page would load a script or style sheet from the network (a folium release that adds
        an asset of its own): better no map than one that needs a CDN offline.
    """
    page = m.get_root().render()
    remote = re.findall(r'<script[^>]+src="(https?://[^"]+)"|<link[^>]+href="(https?://[^"]+)"', page)
    if remote:
        raise ValueError(f"map page links a remote asset: {[u for pair in remote for u in pair if u][0]}")
    return page


def save_map(m, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(map_html(m), encoding="utf-8")
    return path


def static_map(a, path: str | Path, column: str = "capacity_pv_mwp") -> Path:
    """A static choropleth (PNG/SVG/PDF by extension) for reports, with quantile classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if column not in a.counties:
        raise ValueError(f"no column {column}")
    lay = next((x for x in CHOROPLETHS if x.column == column), Layer(column, "viridis"))
    breaks = quantile_breaks(a.counties[column].to_numpy(dtype="float64"))
    colours = _hex_colours(lay.colours, len(breaks) - 1)
    cls = [_class_of(v, breaks) for v in a.counties[column].to_numpy(dtype="float64")]
    fill = [colours[c] if c >= 0 else "#cccccc" for c in cls]
    from matplotlib import patheffects

    from siting.geo.grid import CHINA_ALBERS
    from siting.outputs.figures import cjk_font

    chinese = cjk_font() is not None
    fig, ax = plt.subplots(figsize=(8, 7), dpi=150)
    projected = a.counties.to_crs(CHINA_ALBERS)
    projected.plot(ax=ax, color=fill, edgecolor="#555555", linewidth=0.3)
    if len(projected) <= 150:  # county names, in Chinese where a font has the glyphs
        points = projected.geometry.representative_point()
        for (_, row), pt in zip(projected.iterrows(), points):
            label = row["name_zh"] if chinese else row.get("name_pinyin") or row["name_zh"]
            ax.annotate(str(label), (pt.x, pt.y), fontsize=4.5 if len(projected) > 40 else 6, ha="center",
                        va="center", color="#222222",
                        path_effects=[patheffects.withStroke(linewidth=1.6, foreground="white")])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    labels = [f"{_fmt(lo, lay.digits)} – {_fmt(hi, lay.digits)}" for lo, hi in zip(breaks[:-1], breaks[1:])]
    ax.legend(handles, labels, title=f"{lay.label} ({lay.units})", loc="lower left", fontsize=7, title_fontsize=8)
    name = ((a.region.name_zh if chinese else a.region.name_pinyin) if a.region else "user boundaries")
    ax.set_title(f"{name}: {lay.label} per county ({a.scenario.meta.name})", fontsize=10)
    ax.set_axis_off()
    if any(i.get("coarse") for i in a.provenance["inputs"]):
        ax.text(0.99, 0.01, "coarse built-in data: indicative", transform=ax.transAxes, ha="right", fontsize=7,
                color="#a60")
    from siting.outputs.figures import save_figure

    return save_figure(fig, path)
