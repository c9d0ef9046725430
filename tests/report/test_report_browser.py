"""The card and the comparison page in a real headless Chromium: no console errors, and a
screenshot that shows something (not a blank page).

Needs the Debian packages chromium and chromium-driver and the Python packages selenium and
pillow; skipped with the reason when one is missing.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from shadow_suite.demo.config import MODEL_NAMES
from shadow_suite.gap import load_results
from shadow_suite.gap.verdict_rows import rows_by_benchmark
from shadow_suite.report.card import card_from_results, write_card
from shadow_suite.report.compare import write_comparison
from shadow_suite.report.spectral import spectral_section
from shadow_suite.spectral import analyze_model, write_result

sys.path.insert(0, str(Path(__file__).parents[1] / "spectral"))
from spectral_helpers import llama_tensors, save_model, spectra_json

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium test needs `apt-get install -y chromium chromium-driver`",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,2400",
)

# a complete spectra.json of a made-up model, as the engine writes it
SPECTRA = spectra_json()


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs `pip install selenium`")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # a fresh profile per run; the explicit driver path keeps selenium from downloading one
    service = Service(executable_path=CHROMEDRIVER)
    drv = webdriver.Chrome(service=service, options=options)
    yield drv
    drv.quit()


def _severe(drv) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _pixel_std(png: Path) -> float:
    image = pytest.importorskip("PIL.Image", reason="needs `pip install pillow`")
    import numpy as np

    with image.open(png) as im:
        return float(np.asarray(im.convert("L"), dtype=float).std())


def test_console_error_check_catches_errors(driver, tmp_path: Path) -> None:
    """The harness itself: a page that logs an error must be caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><script>console.error("boom")</script></body></html>'
    )
    driver.get(page.as_uri())
    assert any("boom" in m for m in _severe(driver))


def test_card_and_comparison_display_without_errors(driver, run_dir: Path, tmp_path: Path) -> None:
    card = card_from_results(load_results([run_dir]), spectral_section(SPECTRA), n_boot=200)
    paths = write_card(card, tmp_path / "card")
    compare = write_comparison([card, paths.json], tmp_path / "cmp")
    for page, heading in ((paths.html, card.model.name), (compare.html, "shadow-suite comparison")):
        driver.get(page.resolve().as_uri())
        assert _severe(driver) == []
        assert driver.find_element("tag name", "h1").text == heading  # escaped name shows as text
        n_svg = len(driver.find_elements("tag name", "svg"))
        assert n_svg >= (6 if page == paths.html else 1)
        shot = tmp_path / f"{page.stem}.png"
        assert driver.save_screenshot(str(shot))
        # a blank page is one flat colour; a rendered card has text and charts
        assert _pixel_std(shot) > 10.0


def _demo_family(root: Path) -> None:
    """The demo's layout: runs/<name>/spectra for a tiny base and two fine-tunes of it
    (real safetensors through the real engine), the fine-tunes against the base."""
    base = llama_tensors(seed=0, layers=3)
    for i, name in enumerate(MODEL_NAMES):
        gen = torch.Generator().manual_seed(i)
        tensors = {
            k: (w.float() + 0.01 * (1 + i) * torch.randn(w.shape, generator=gen)).to(w.dtype)
            if i and w.dim() == 2
            else w
            for k, w in base.items()
        }
        save_model(root / "models" / name, tensors)
        result = analyze_model(
            root / "models" / name,
            None if i == 0 else root / "models" / MODEL_NAMES[0],
            device="cpu",
            cache_dir=None,
            fit_alpha=False,
            hash_files=False,
            workers=1,
        )
        write_result(result, root / "runs" / name / "spectra")


def test_footprint_pages_display_without_errors(driver, run_dir: Path, tmp_path: Path) -> None:
    """footprint.html and a comparison page with its footprint section (as the demo's)."""
    _demo_family(tmp_path)
    card = card_from_results(load_results([run_dir]), spectral_section(SPECTRA), n_boot=200)
    tuned = MODEL_NAMES[1:]
    compare = write_comparison(
        [replace(card, model=replace(card.model, name=n)) for n in tuned],
        tmp_path,
        spectra=[tmp_path / "runs" / n / "spectra" for n in tuned],
        ancestor_spectra=tmp_path / "runs" / MODEL_NAMES[0] / "spectra",
    )
    panels = len(rows_by_benchmark(card.gap))  # one scatter per benchmark placed
    pages = (
        (tmp_path / "footprint.html", "shadow-suite footprints", 4 * 7),
        (compare.html, "shadow-suite comparison", panels + 4 * 2),
    )
    for page, heading, n_svg in pages:
        driver.get(page.resolve().as_uri())
        assert _severe(driver) == []
        assert driver.find_element("tag name", "h1").text == heading
        assert len(driver.find_elements("tag name", "svg")) == n_svg
        # every chart is drawn with a size (an SVG that failed to parse shows nothing)
        for chart in driver.find_elements("tag name", "svg"):
            assert chart.size["width"] > 100 and chart.size["height"] > 100
        labels = driver.find_element("tag name", "body").text
        assert "benchmark-aligned" in labels and "coverage-expanding" in labels
        shot = tmp_path / f"{page.stem}.png"
        assert driver.save_screenshot(str(shot))
        assert _pixel_std(shot) > 10.0
    link = driver.find_element("link text", "footprint.html")
    assert link.get_attribute("href") == (tmp_path / "footprint.html").resolve().as_uri()


FIRST_SCREEN = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
"""The screen the first-screen check renders at: 1400 px wide, a laptop's height."""
CLIPPED_TABLES = """return [...document.querySelectorAll('table')]
  .filter(t => t.scrollWidth > t.clientWidth + 1)
  .map(t => t.querySelector('th').textContent + ': ' + t.scrollWidth + ' > ' + t.clientWidth)"""


def _first_screen(driver, page: Path, shot: Path) -> None:
    """At 1400 x 900: no table wider than its box (a clipped column), the verdict in view
    without scrolling when the page has one, and a screenshot that shows something."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", FIRST_SCREEN)
    try:
        driver.get(page.resolve().as_uri())
        assert _severe(driver) == []
        assert driver.execute_script("return window.innerWidth") == FIRST_SCREEN["width"]
        assert driver.execute_script(CLIPPED_TABLES) == []
        verdicts = driver.find_elements("css selector", "p.verdict")
        if verdicts:
            bottom = driver.execute_script(
                "return arguments[0].getBoundingClientRect().bottom", verdicts[0]
            )
            assert 0 < bottom <= FIRST_SCREEN["height"]
        assert driver.save_screenshot(str(shot))
        assert _pixel_std(shot) > 10.0
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_first_screens_at_1400_px(driver, tmp_path: Path) -> None:
    """A card with a verdict, one with no_verdict and their comparison page."""
    import numpy as np
    from fake_lm_eval import simulate, write_run
    from report_helpers import make_run

    from shadow_suite.report.card import build_card

    make_run(tmp_path / "a", "org/model-a", drop=0.3, seed=1)
    make_run(tmp_path / "b", "org/model-b", drop=0.0, seed=2)
    verdict = build_card([tmp_path / "a"], n_boot=200, seed=1, references=[tmp_path / "b"])
    assert verdict.gap.headline.verdict_class == "benchmark_specific"
    rng = np.random.default_rng(0)
    write_run(tmp_path / "c", simulate({"mmlu": 0.25}, {"permuted": 0.0}, 60, rng), "org/chance")
    none = build_card([tmp_path / "c"], n_boot=200, seed=1)
    assert none.gap.headline.verdict_class == "no_verdict"
    pages = [write_card(verdict, tmp_path / "v").html, write_card(none, tmp_path / "n").html]
    pages.append(write_comparison([verdict, none], tmp_path / "cmp").html)
    for page in pages:
        _first_screen(driver, page, tmp_path / f"{page.parent.name}.png")


REPORTS = Path(__file__).resolve().parents[2] / "reports"
SHIPPED = sorted(REPORTS.rglob("card.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.parent.relative_to(REPORTS)) for p in SHIPPED])
def test_shipped_cards_first_screens_at_1400_px(driver, path: Path, tmp_path: Path) -> None:
    """Every card in reports/ (real model names, long row labels), rendered from its card.json
    by this version: no clipped table column, the verdict in view."""
    from shadow_suite.report.html import render_html
    from shadow_suite.report.schema import load_card

    page = tmp_path / f"{path.parent.name}.html"
    page.write_text(render_html(load_card(path)), encoding="utf-8")
    _first_screen(driver, page, page.with_suffix(".png"))
