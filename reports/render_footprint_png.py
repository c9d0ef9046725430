"""Render the demo's footprint profiles into the README's figure, reports/demo/footprint.png.

Four charts of the two fine-tunes against their base: relative change and correlation with
the base in ``self_attn.v_proj``, the update's effective rank and the change of effective
rank in ``mlp.up_proj``, drawn with the card's own SVG code and photographed by headless
Chromium (needs chromium and chromedriver, as the browser tests do).

    python reports/render_footprint_png.py DEMO_OUT reports/demo/footprint.png
"""

from __future__ import annotations

import io
import shutil
import sys
from html import escape
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from shadow_suite.report import svg
from shadow_suite.report.footprint import TITLES, _series, family, footprint_table
from shadow_suite.report.html import CSS

TUNED = ["benchmark-aligned", "coverage-expanding"]
CHARTS = (
    ("relative_change", "attn_v"),
    ("cosine_to_base", "attn_v"),
    ("update_effective_rank", "mlp_up"),
    ("effective_rank_change", "mlp_up"),
)


def main(root: Path, out: Path) -> None:
    members = family(
        [root / "runs" / n / "spectra" for n in TUNED],
        TUNED,
        base_spectra=root / "runs" / "base" / "spectra",
    )
    frame = footprint_table(members, kinds=("attn_v", "mlp_up"), pairs=[("base", n) for n in TUNED])
    charts = "".join(
        f"<figure>{svg.lines(_series(frame, metric, kind), f'{kind}: {TITLES[metric]}', 'layer', metric)}"
        f"<figcaption>{escape(kind)}: {escape(TITLES[metric])}</figcaption></figure>"
        for metric, kind in CHARTS
    )
    style = (
        f"{CSS} main{{max-width:none;display:grid;grid-template-columns:repeat(2,620px);"
        "gap:0 16px}} figure{margin:2px 0} figure svg{width:100%}"
    )
    page = root / "footprint_readme.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<style>{style}</style></head><body><main>{charts}</main></body></html>",
        encoding="utf-8",
    )
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1320,1800", "--hide-scrollbars", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(page.resolve().as_uri())
        rect = driver.find_element("tag name", "main").rect
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    box = (
        max(0, int(rect["x"]) - 4),
        max(0, int(rect["y"]) - 4),
        min(image.width, int(rect["x"] + rect["width"]) + 4),
        min(image.height, int(rect["y"] + rect["height"]) + 4),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    image.crop(box).quantize(colors=64).save(out, optimize=True)
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
