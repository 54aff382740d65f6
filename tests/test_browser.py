"""The HTML map in real headless Chromium, served from a loopback HTTP server."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import siting
from siting.outputs import maps


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.slow,  # a real browser
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Write the maps into a folder and serve it on 127.0.0.1."""
    root = tmp_path_factory.mktemp("maps")
    a = siting.assess("柳州", resolution_m=2000)
    maps.save_map(a.map(2030), root / "liuzhou.html")
    # a user boundary file whose names try to inject script
    polys = [shapely.box(108.0, 22.0, 108.3, 22.3), shapely.box(108.3, 22.0, 108.6, 22.3)]
    gdf = gpd.GeoDataFrame({"code": ["X1", "X2"], "name": ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]},
                           geometry=polys, crs="EPSG:4326")
    gdf.to_file(root / "evil.gpkg")
    b = siting.assess(boundaries=root / "evil.gpkg", id_column="code", name_column="name", resolution_m=2000)
    maps.save_map(maps.make_map(b), root / "evil.html")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", a, b
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        yield b
        b.close()


def open_page(browser, url, viewport=(1600, 1000)):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    errors, dialogs = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("path.county")
    return page, errors, dialogs


def test_map_draws_every_county_without_errors(served, browser):
    base, a, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html")
    assert errors == []
    assert page.locator("path.county").count() == len(a.counties)
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1000)  # let the fit-to-bounds zoom finish before the picture
    page.screenshot(path=str(ARTIFACTS / "map_liuzhou.png"))
    page.close()


def test_switching_a_layer_changes_what_is_shown(served, browser):
    base, a, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html")
    before = page.locator("path.county").evaluate_all("els => els.map(e => e.getAttribute('class') + e.getAttribute('fill'))")
    assert all("county-capacity-pv-mwp" in c for c in before)
    page.locator(".leaflet-control-layers").get_by_text("Wind land usable (share)").click()
    page.wait_for_timeout(200)
    after = page.locator("path.county").evaluate_all("els => els.map(e => e.getAttribute('class') + e.getAttribute('fill'))")
    assert len(after) == len(a.counties)
    assert all("county-usable-wind-share" in c for c in after) and after != before
    legend = page.locator(".siting-legend:visible")
    assert legend.count() == 1 and "Wind land usable" in legend.inner_text()
    assert errors == []
    page.close()


def test_layer_control_folds_away_on_a_small_screen(served, browser):
    base, _, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html", viewport=(1280, 720))
    control = page.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in (control.get_attribute("class") or "")
    control.hover()
    page.wait_for_timeout(200)
    assert "leaflet-control-layers-expanded" in control.get_attribute("class")
    assert errors == []
    page.close()


def test_binding_constraint_and_target_share_layers(served, browser):
    base, a, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html")
    page.locator(".leaflet-control-layers").get_by_text("PV: what binds").click()
    page.wait_for_timeout(200)
    fills = set(page.locator("path.county").evaluate_all("els => els.map(e => e.getAttribute('fill'))"))
    expected = {maps.CATEGORY_COLOURS[k] for k in a.counties["binding_pv_category"].dropna()}
    assert fills == expected
    legend = page.locator(".siting-legend:visible").inner_text()
    assert "PV: what binds" in legend and all(k in legend for k in a.counties["binding_pv_category"].dropna())
    page.locator(".leaflet-control-layers").get_by_text("Share of the plan target (MW)").click()
    page.wait_for_timeout(200)
    assert "Share of the plan target" in page.locator(".siting-legend:visible").inner_text()
    assert errors == []
    page.close()


def test_hover_and_click_show_the_county_figures(served, browser):
    base, a, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html")
    row = a.counties.sort_values("area_km2").iloc[-1]  # the largest county is easy to hit
    paths = page.locator("path.county")
    idx = list(a.counties.adcode).index(row.adcode)
    target = paths.nth(idx)
    box = target.bounding_box()
    target.hover(position={"x": box["width"] / 2, "y": box["height"] / 2}, force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert row.name_zh in text or row.name_pinyin in text
    target.click(position={"x": box["width"] / 2, "y": box["height"] / 2}, force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    ptext = popup.inner_text()
    assert "exclusions" in ptext and "usable" in ptext and "MWp" in ptext
    assert errors == []
    page.close()


def test_search_finds_a_county_by_pinyin(served, browser):
    base, a, _ = served
    page, errors, _ = open_page(browser, f"{base}/liuzhou.html")
    page.locator("input.search-input").type("Rong", delay=50)
    page.wait_for_selector(".search-tip")
    tips = page.locator(".search-tip").all_inner_texts()
    assert any("Rongshui" in t for t in tips) and any("Rongan" in t for t in tips)
    assert errors == []
    page.close()


def test_names_from_user_files_are_shown_as_text(served, browser):
    base, _, b = served
    page, errors, dialogs = open_page(browser, f"{base}/evil.html")
    path = page.locator("path.county").first
    box = path.bounding_box()
    path.hover(position={"x": box["width"] / 2, "y": box["height"] / 2}, force=True)
    page.locator(".leaflet-tooltip").wait_for()
    page.wait_for_timeout(300)
    assert dialogs == [] and errors == []
    assert page.locator(".leaflet-tooltip").inner_text().count("<") >= 1  # the markup is visible as text
    assert page.locator("script:text('alert(1)')").count() == 0
    page.close()


def test_map_is_self_contained(served):
    base, a, _ = served
    text = maps.map_html(a.map(2030))
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs.cloudflare", "bootstrapcdn"):
        assert cdn not in text
    assert len(text.encode()) < 5_000_000
