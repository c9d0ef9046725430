"""Print a card's HTML page to a PDF with headless Chromium's own print-to-PDF.

The route is Chromium's command line (``chromium --headless --print-to-pdf=FILE URL``): one
binary, no WebDriver (chromedriver must match the browser's version to the build; the command
line needs nothing else), no Python dependency, no network, and nothing left running (each call
starts and ends its own browser with a throw-away profile). The page is our own self-contained,
script-free HTML, so there is no load event to wait for.

The paper size is set by a CSS ``@page`` rule added to a private copy of the page (Chromium
honours it); card.html itself carries only the print rules that fit any paper, so that a reader
printing it from a browser gets their own paper size.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Literal, get_args

from shadow_suite.atomic import write_bytes
from shadow_suite.errors import ShadowSuiteError

Paper = Literal["a4", "letter"]
PAPERS: tuple[str, ...] = get_args(Paper)
DEFAULT_PAPER: Paper = "a4"

# the CSS name of each paper for ``@page { size: ... }``
PAGE_SIZE_CSS: dict[str, str] = {"a4": "A4", "letter": "letter"}

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "SHADOW_SUITE_CHROMIUM"
INSTALL_HINT = (
    "--pdf needs headless Chromium: install it (Debian/Ubuntu: `apt-get install chromium`) "
    f"or set {BROWSER_ENV} to a chromium / google-chrome binary"
)
TIMEOUT_S = 120.0

_FLAGS = (
    "--headless",
    "--no-sandbox",  # containers and root have no sandbox; the page is ours and runs no script
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # not --blink-settings=scriptEnabled=false: with it Chromium 156 prints nothing, exit 0
    "--no-pdf-header-footer",
)


def find_browser() -> str:
    """The Chromium binary: ``$SHADOW_SUITE_CHROMIUM``, else the first of ``BROWSERS`` on PATH;
    a one-line ShadowSuiteError naming what to install when there is none."""
    wanted = os.environ.get(BROWSER_ENV)
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise ShadowSuiteError(f"{BROWSER_ENV}={wanted}: no such executable; {INSTALL_HINT}")
        return found
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ShadowSuiteError(f"no {', '.join(BROWSERS)} on PATH; {INSTALL_HINT}")


def check_paper(paper: str) -> Paper:
    if paper not in PAPERS:
        raise ShadowSuiteError(f"--paper {paper}: give one of {', '.join(PAPERS)}")
    return paper  # type: ignore[return-value]


def with_paper(html: str, paper: Paper) -> str:
    """``html`` with an ``@page`` rule that sets the paper size (added last, so it wins)."""
    rule = f"<style>@page{{size:{PAGE_SIZE_CSS[paper]}}}</style>"
    head_end = html.find("</head>")
    if head_end < 0:
        return rule + html
    return html[:head_end] + rule + html[head_end:]


def html_to_pdf(html: str, paper: Paper = DEFAULT_PAPER, browser: str | None = None) -> bytes:
    """The PDF of a self-contained HTML page, printed by headless Chromium on ``paper``."""
    paper = check_paper(paper)
    binary = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="shadow-suite-pdf-") as tmp:
        folder = Path(tmp)
        page = folder / "card.html"
        page.write_text(with_paper(html, paper), encoding="utf-8")
        target = folder / "card.pdf"
        command = [
            binary,
            *_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--crash-dumps-dir={folder / 'crashes'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        # its own session, so that on a timeout the whole browser (renderer, zygote) goes
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise ShadowSuiteError(
                f"{binary} did not print the card within {TIMEOUT_S:.0f} s"
            ) from None
        data = target.read_bytes() if target.is_file() else b""
        if not data.startswith(b"%PDF"):
            last = _last_line(output.decode("utf-8", "replace"))
            raise ShadowSuiteError(
                f"{binary} wrote no PDF (exit {proc.returncode})" + (f": {last}" if last else "")
            )
        return data


def _last_line(output: str) -> str:
    """Chromium's last meaningful complaint (its D-Bus and GPU noise skipped)."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and "dbus" not in line.lower() and "bytes written" not in line
    ]
    return lines[-1][:300] if lines else ""


def write_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str] | None = None,
    paper: Paper = DEFAULT_PAPER,
    browser: str | None = None,
) -> Path:
    """Print ``html_path`` (card.html) to ``pdf_path`` (default: card.pdf beside it),
    atomically: a reader finds the old PDF or the new one, never a part."""
    source = Path(html_path)
    target = source.with_suffix(".pdf") if pdf_path is None else Path(pdf_path)
    data = html_to_pdf(source.read_text(encoding="utf-8"), paper, browser)
    return write_bytes(target, data)
