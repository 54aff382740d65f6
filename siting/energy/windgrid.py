"""Onshore wind on the analysis grid: hub-height speed, capacity factor and energy.

The wind resource comes from a layer named ``wind_speed_ms`` (mean speed at
the layer's declared ``height_m``, e.g. Global Wind Atlas at 100 m), with an
optional ``weibull_k`` layer. Speeds are extrapolated to hub height (power law,
or log law with roughness from the land cover), the turbine's power curve is
integrated against a Weibull distribution at the cell's air density (from
elevation), and wake, availability and electrical losses are applied
(:mod:`siting.model.wind`). The capacity factor is computed only where land is
usable.
"""

from __future__ import annotations

import numpy as np

from siting.errors import SitingError
from siting.io.layers import GridLayer
from siting.io.turbines import capacity_factor_table_kept, load_turbine
from siting.rules.scenario import HUB_LAYER, TYPHOON_LAYER, WEIBULL_A_LAYER, WEIBULL_K_LAYER, WIND_LAYER  # noqa: F401
from siting.model.wind import (
    DEFAULT_WEIBULL_K,
    STANDARD_AIR_DENSITY_KG_M3,
    air_density_kg_m3,
    capacity_factor,
    check_wind_speed_ms,
    log_law_speed_ms,
    net_capacity_factor,
    power_law_speed_ms,
    roughness_length_m,
)



def hub_height_m(model) -> float:
    """The scenario's hub height, or the turbine's first listed hub height."""
    if model.hub_height_m:
        return float(model.hub_height_m)
    turbine = load_turbine(model.turbine)
    if not turbine.hub_heights_m:
        raise SitingError(f"turbine '{model.turbine}': no hub height listed; set [wind.model] hub_height_m")
    return float(turbine.hub_heights_m[0])


def hub_speed_layer(wind: GridLayer, height_m: float | None, model, land_cover: GridLayer | None,
                    in_region: np.ndarray) -> GridLayer:
    """Mean wind speed at hub height on the grid, as a derived layer.

    Raises
    ------
    SitingError
        If the layer's height is not declared or its values are not plausible m/s.
    """
    path = wind.provenance.get("path", WIND_LAYER)
    if height_m is None:
        raise SitingError(f"layer '{WIND_LAYER}' ({path}): declare the height the speeds are for, "
                          "e.g. height_m = 100 for Global Wind Atlas (or --wind-height 100)")
    speeds = wind.data
    check_wind_speed_ms(speeds[in_region & np.isfinite(speeds)], str(path))
    hub = hub_height_m(model)
    out = extrapolate_to_hub(speeds, height_m, model, land_cover)
    prov = {"layer": HUB_LAYER, "source": f"derived from {WIND_LAYER} at {height_m:g} m", "path": path,
            "sha256": wind.provenance.get("sha256", ""), "resolution": wind.provenance.get("resolution", ""),
            "units": "m/s", "kind": "continuous", "resampling": wind.resampling,
            "method": (f"log law, z0 from land cover, to {hub:g} m" if model.shear == "log"
                       else f"power law, alpha {model.shear_exponent:g}, to {hub:g} m"),
            "coarse": wind.provenance.get("coarse", False)}
    return GridLayer(name=HUB_LAYER, data=out, kind="continuous", nodata_mask=~np.isfinite(out),
                     outside_mask=wind.outside_mask, resampling=wind.resampling, provenance=prov)


def extrapolate_to_hub(values_ms: np.ndarray, height_m: float, model, land_cover) -> np.ndarray:
    """Shear a speed-like field (mean speed or Weibull A) from ``height_m`` to hub height."""
    hub = hub_height_m(model)
    if model.shear == "log":
        if land_cover is None:
            raise SitingError("[wind.model] shear = 'log' needs a land_cover layer for the roughness length")
        z0 = roughness_length_m(np.where(land_cover.nodata_mask, 0, land_cover.data), scheme="igbp")
        return np.asarray(log_law_speed_ms(values_ms, height_m, hub, z0), dtype="float32")
    return np.asarray(power_law_speed_ms(values_ms, height_m, hub, model.shear_exponent), dtype="float32")


def net_capacity_factor_grid(usable: np.ndarray, hub_speed_ms: np.ndarray, weibull_k: np.ndarray | None,
                             elevation_m: np.ndarray | None, model,
                             weibull_a_hub_ms: np.ndarray | None = None) -> np.ndarray:
    """Net capacity factor per cell where land is usable and the speed is known (NaN elsewhere).

    With a Weibull A field (at hub height) the distribution is taken from A and k
    directly; otherwise A follows from the mean speed and k, and the cells go through one compiled pass
    (:func:`siting.model.windtable.net_capacity_factor_cells`); the few it leaves (outside the look-up table)
    are computed with :func:`siting.model.wind.capacity_factor`.
    """
    turbine = load_turbine(model.turbine)
    if weibull_a_hub_ms is None:
        from siting.model.windtable import net_capacity_factor_cells

        density = None
        if elevation_m is not None:  # the factor capacity_factor scales the mean speed by
            cells = (usable > 0) & np.isfinite(hub_speed_ms)
            density = np.ones(np.shape(hub_speed_ms))
            density[cells] = np.cbrt(_air_density_at(cells, elevation_m, model) / STANDARD_AIR_DENSITY_KG_M3)
        out, redo = net_capacity_factor_cells(
            usable, hub_speed_ms, weibull_k, density, capacity_factor_table_kept(turbine.power_curve),
            default_k=model.weibull_k or DEFAULT_WEIBULL_K, wake_loss=model.wake_loss,
            availability_loss=model.availability_loss, electrical_loss=model.electrical_loss)
        if redo.any():
            out[redo] = _net_capacity_factor_at(redo, hub_speed_ms, weibull_k, elevation_m, model, turbine, None)
        return out
    cells = (usable > 0) & np.isfinite(hub_speed_ms)  # a mask: cheaper to gather with than (rows, cols) arrays
    out = np.full(usable.shape, np.nan, dtype="float32")
    if cells.any():
        out[cells] = _net_capacity_factor_at(cells, hub_speed_ms, weibull_k, elevation_m, model, turbine,
                                             weibull_a_hub_ms)
    return out


def _net_capacity_factor_at(cells: np.ndarray, hub_speed_ms, weibull_k, elevation_m, model, turbine,
                            weibull_a_hub_ms) -> np.ndarray:
    """Net capacity factor of the cells of the mask ``cells``, with the NumPy functions of the model."""

    def at(a: np.ndarray) -> np.ndarray:
        return np.asarray(a)[cells].astype("float64")

    speed = at(hub_speed_ms)
    k = np.full(speed.shape, model.weibull_k or DEFAULT_WEIBULL_K)
    if weibull_k is not None:
        kk = at(weibull_k)
        k = np.where(np.isfinite(kk) & (kk > 0), kk, k)
    rho = None if elevation_m is None else _air_density_at(cells, elevation_m, model)
    if weibull_a_hub_ms is not None:
        a_ms = at(weibull_a_hub_ms)
        use_a = np.isfinite(a_ms) & (a_ms > 0)
        gross = np.where(use_a, 0.0, np.nan)
        if use_a.any():
            gross[use_a] = capacity_factor(None, k[use_a], turbine.power_curve,
                                           air_density_kg_m3=None if rho is None else rho[use_a],
                                           weibull_scale_ms=a_ms[use_a], method="table")
        if (~use_a).any():
            gross[~use_a] = capacity_factor(speed[~use_a], k[~use_a], turbine.power_curve,
                                            air_density_kg_m3=None if rho is None else rho[~use_a], method="table")
    else:
        gross = capacity_factor(speed, k, turbine.power_curve, air_density_kg_m3=rho, method="table")
    return net_capacity_factor(gross, model.wake_loss, model.availability_loss, model.electrical_loss)


def _air_density_at(cells: np.ndarray, elevation_m: np.ndarray, model) -> np.ndarray:
    """ISA air density (kg/m³) at ground + hub height of the cells of the mask ``cells`` (unknown ground: 0 m)."""
    elev = np.asarray(elevation_m)[cells].astype("float64")
    return air_density_kg_m3(np.where(np.isfinite(elev), elev, 0.0) + hub_height_m(model))
