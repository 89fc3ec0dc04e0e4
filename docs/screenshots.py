"""Render a report in headless Chromium and save what a person sees (docs/screenshots/).

    .venv/bin/python docs/screenshots.py REPORT.html [NAME]

Uses Debian's Chromium (the Makefile's system-deps installs it) through Playwright, network
off, a 1280-pixel-wide window: one full-page image and one of the first screen.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main(report: Path, name: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: run `make system-deps` (Debian) or install it")
    HERE.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
        page.goto(report.resolve().as_uri())
        page.add_style_tag(content="nav { position: static; }")  # no sticky bar over section shots
        page.screenshot(path=str(HERE / f"{name}-top.png"))
        for section in ("diagnoses", "signs", "process", "followup"):
            element = page.locator(f"#{section}")
            box = element.bounding_box() if element.count() else None
            if box:  # the section's first 1,400 pixels: long sections (every control chart) stay readable
                clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 1400)}
                page.screenshot(path=str(HERE / f"{name}-{section}.png"), clip=clip, full_page=True)
        browser.close()
    print(f"screenshots in {HERE}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else Path(sys.argv[1]).stem)
