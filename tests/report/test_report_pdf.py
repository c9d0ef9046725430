"""``shadow-suite report --pdf``: card.pdf printed by the real headless Chromium, read back with
pdfium (pypdfium2): a PDF, on the paper asked for, whose first page shows text, whose plots
came through, with the model's name (``--name``) as text.

Needs the Debian package chromium (as the browser test; `.ci/run` installs it); skipped with
the reason when it is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from shadow_suite.cli import main
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report import pdf
from shadow_suite.report.pdf import html_to_pdf, with_paper

# ISO 216 A4 (210 x 297 mm) and US Letter (8.5 x 11 in), in PDF points (1/72 in)
PAGE_SIZE_PT = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}

HAS_CHROMIUM = any(shutil.which(name) for name in pdf.BROWSERS)
needs_chromium = pytest.mark.skipif(
    not HAS_CHROMIUM, reason="card.pdf needs `apt-get install -y chromium`"
)
VENDOR = "Vendor <b>X</b>"


def _report(run_dir: Path, out: Path, *extra: str) -> Path:
    code = main(["report", str(run_dir), "--out", str(out), "--n-boot", "200", "--pdf", *extra])
    assert code == 0
    return out / "card.pdf"


def _pixels(page: pdfium.PdfPage) -> np.ndarray:
    """The page rendered at 72 dpi as an RGB array (one pixel per point)."""
    return np.asarray(page.render(scale=1).to_pil().convert("RGB")).astype(int)


def _text(document: pdfium.PdfDocument) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in document)


def _size_is(page: pdfium.PdfPage, paper: str) -> bool:
    width, height = page.get_size()  # the MediaBox, in points
    want_w, want_h = PAGE_SIZE_PT[paper]
    return abs(width - want_w) < 1.0 and abs(height - want_h) < 1.0


@needs_chromium
def test_pdf_is_a4_with_text_and_plots(run_dir: Path, tmp_path: Path) -> None:
    path = _report(run_dir, tmp_path / "card")
    assert path == tmp_path / "card" / "card.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    assert not list(path.parent.glob(".card.pdf.*"))  # the atomic write left no temporary
    document = pdfium.PdfDocument(path)
    assert len(document) >= 1
    assert all(_size_is(page, "a4") for page in document)

    first = _pixels(document[0])
    gray = first.mean(axis=2)
    # PNG for a human look; a blank page is all white, a card has text, boxes and tables
    document[0].render(scale=2).to_pil().save(tmp_path / "page1.png")
    assert (gray < 245).mean() > 0.03  # a real share of the page is ink
    assert (gray < 80).mean() > 0.002  # and some of it is dark text

    # the inline SVG charts came through: coloured bars and dots on some page
    coloured = max(
        ((p.max(axis=2) - p.min(axis=2) > 60) & (p.mean(axis=2) < 200)).mean()
        for p in map(_pixels, document)
    )
    assert coloured > 0.005

    # the hostile model name of the fixture is text on the page, not markup
    text = _text(document)
    assert 'org/<script>alert("x")</script>&<b>' in text
    assert "Gap tables" in text


@needs_chromium
def test_pdf_letter_and_name(run_dir: Path, tmp_path: Path) -> None:
    path = _report(run_dir, tmp_path / "card", "--paper", "letter", "--name", VENDOR)
    document = pdfium.PdfDocument(path)
    assert all(_size_is(page, "letter") for page in document)
    html = (tmp_path / "card" / "card.html").read_text()
    assert "<h1>Vendor &lt;b&gt;X&lt;/b&gt;</h1>" in html
    assert "<b>X</b>" not in html
    assert "Vendor <b>X</b>" in _text(document)
    card = (tmp_path / "card" / "card.json").read_text()
    assert '"name": "Vendor <b>X</b>"' in card


def test_missing_chromium_is_one_line_before_any_work(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv(pdf.BROWSER_ENV, raising=False)
    code = main(["report", str(run_dir), "--out", str(tmp_path / "card"), "--pdf"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "apt-get install chromium" in err and "Traceback" not in err
    assert not (tmp_path / "card").exists()  # refused before the card was built


def test_a_browser_that_prints_nothing_is_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'something went wrong' >&2\nexit 0\n")
    fake.chmod(0o755)
    with pytest.raises(ShadowSuiteError, match=r"wrote no PDF.*something went wrong"):
        html_to_pdf("<html><head></head><body>x</body></html>", "a4", browser=str(fake))


def test_paper_rule_comes_last_in_the_head() -> None:
    page = with_paper(
        "<html><head><style>@page{size:A4}</style></head><body></body></html>", "letter"
    )
    assert page.index("@page{size:letter}") > page.index("@page{size:A4}")
    assert page.index("@page{size:letter}") < page.index("</head>")
    with pytest.raises(ShadowSuiteError, match="--paper legal"):
        html_to_pdf("<html></html>", "legal")  # type: ignore[arg-type]


@needs_chromium
def test_compare_pdf_holds_every_model_name(tmp_path: Path, capsys) -> None:
    """compare --pdf: compare.pdf beside compare.html, every model's name in its text."""
    from report_helpers import make_run

    names = ["org/model-a", "org/model-b", "Vendor tuned 1.0"]
    for i, name in enumerate(names):
        make_run(tmp_path / f"run{i}", name, drop=0.1 * i, seed=i)
        assert main(["report", str(tmp_path / f"run{i}"), "--out", str(tmp_path / f"card{i}"),
                     "--n-boot", "200"]) == 0  # fmt: skip
    cards = [str(tmp_path / f"card{i}") for i in range(2)]
    code = main(["compare", *cards, "--reference", str(tmp_path / "card2"), "--pdf",
                 "--paper", "letter", "--out", str(tmp_path / "cmp")])  # fmt: skip
    assert code == 0
    path = tmp_path / "cmp" / "compare.pdf"
    assert str(path) in capsys.readouterr().out
    document = pdfium.PdfDocument(path)
    assert all(_size_is(page, "letter") for page in document)
    text = _text(document)
    for name in names:
        assert name in text
