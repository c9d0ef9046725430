"""Small inline SVG charts for the report pages: no plotting library, no network.

Each function returns an ``<svg>`` element as a string; every label passes through
``html.escape``. Values of None are skipped (a gap in a line, no bar), never plotted as 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1b9e77",
    "#d95f02",
    "#7570b3",
)
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    color: str | None = None


@dataclass(frozen=True)
class Series:
    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    dashed: bool = False


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    reference: bool = False
    """A trusted reference model: drawn hollow and grey, and it spans the reference band."""


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" {FONT}>',
        f"<title>{escape(title)}</title>",
    ]


def grouped_bars(
    groups: Sequence[tuple[str, Sequence[Bar]]],
    title: str,
    y_label: str,
    references: Sequence[float | None] = (),
    percent: bool = True,
) -> str:
    """Vertical bars per group with CI whiskers; ``references[i]`` draws a dashed line across
    group i (e.g. chance level)."""
    n_bars = sum(len(bars) for _, bars in groups) or 1
    left, right, top, bottom = 56, 16, 28, 96
    # at least the card's text width (640 px), so the chart fills the page like the others
    width = max(640, min(1100, left + right + n_bars * 26 + len(groups) * 18))
    height = 320
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = 100.0 if percent else 1.0
    y_max = 1.0
    for _, bars in groups:
        for b in bars:
            for v in (b.value, b.high):
                if v is not None:
                    y_max = max(y_max, v)
    out = _open(width, height, title)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    for t in _nice_ticks(0, y_max * scale, 5):
        if t / scale > y_max + 1e-9:
            continue
        yy = y(t / scale)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_fmt(yy)}" y2="{_fmt(yy)}" stroke="#e5e5e5"/>'
        )
        out.append(f'<text x="{left - 6}" y="{_fmt(yy + 4)}" text-anchor="end">{t:g}</text>')
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    slot = plot_w / (n_bars + len(groups))
    x = left + slot / 2
    for gi, (group, bars) in enumerate(groups):
        g_start = x
        for bi, bar in enumerate(bars):
            color = bar.color or PALETTE[bi % len(PALETTE)]
            if bar.value is not None:
                h = plot_h * bar.value / y_max
                out.append(
                    f'<rect x="{_fmt(x)}" y="{_fmt(y(bar.value))}" width="{_fmt(slot * 0.85)}" '
                    f'height="{_fmt(h)}" fill="{color}"><title>{escape(bar.label)}: '
                    f"{bar.value * scale:.1f}</title></rect>"
                )
                if bar.low is not None and bar.high is not None:
                    cx = x + slot * 0.425
                    out.append(
                        f'<path d="M{_fmt(cx)} {_fmt(y(bar.low))}V{_fmt(y(bar.high))}'
                        f'M{_fmt(cx - 4)} {_fmt(y(bar.low))}h8M{_fmt(cx - 4)} {_fmt(y(bar.high))}h8" '
                        'stroke="#222" fill="none"/>'
                    )
            lx = x + slot * 0.425
            out.append(
                f'<text transform="translate({_fmt(lx + 4)} {top + plot_h + 8}) rotate(60)" '
                f'font-size="10">{escape(bar.label)}</text>'
            )
            x += slot
        reference = references[gi] if gi < len(references) else None
        if reference is not None:
            ry = y(reference)
            out.append(
                f'<line x1="{_fmt(g_start - 2)}" x2="{_fmt(x)}" y1="{_fmt(ry)}" y2="{_fmt(ry)}" '
                'stroke="#555" stroke-dasharray="4 3"><title>chance level</title></line>'
            )
        out.append(
            f'<text x="{_fmt((g_start + x) / 2)}" y="{top - 10}" text-anchor="middle" '
            f'font-weight="bold">{escape(group)}</text>'
        )
        x += slot
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


def forest(
    rows: Sequence[tuple[str, float | None, float | None, float | None, bool]],
    title: str,
    x_label: str,
    percent: bool = True,
) -> str:
    """Horizontal point-and-interval chart around zero; rows are (label, value, low, high,
    highlight). Highlighted rows (significant) are drawn solid, the others hollow."""
    scale = 100.0 if percent else 1.0
    values = [v for _, a, b, c, _ in rows for v in (a, b, c) if v is not None]
    lo = min([0.0, *values]) * scale
    hi = max([0.0, *values]) * scale
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    # room for the longest row label (about 7.4 px a bold character at font size 12), so labels
    # such as "arc_challenge none_of_the_others vs format_swap [gated out]" are not cut
    longest = max((len(label) for label, *_ in rows), default=0)
    left, right, top, row_h = max(190, min(480, int(7.4 * longest) + 16)), 24, 20, 22
    width = max(640, left + 430)
    height = top + row_h * max(1, len(rows)) + 44
    plot_w = width - left - right
    out = _open(width, height, title)

    def x(v: float) -> float:
        return left + plot_w * (v * scale - lo) / (hi - lo)

    for t in _nice_ticks(lo, hi, 6):
        if lo <= t <= hi:
            xx = left + plot_w * (t - lo) / (hi - lo)
            out.append(
                f'<line x1="{_fmt(xx)}" x2="{_fmt(xx)}" y1="{top}" y2="{height - 36}" stroke="#eee"/>'
            )
            out.append(f'<text x="{_fmt(xx)}" y="{height - 22}" text-anchor="middle">{t:g}</text>')
    out.append(
        f'<line x1="{_fmt(x(0))}" x2="{_fmt(x(0))}" y1="{top}" y2="{height - 36}" stroke="#333"/>'
    )
    for i, (label, value, low, high, strong) in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        weight = "" if label.startswith(" ") else ' font-weight="bold"'
        out.append(
            f'<text x="{left - 8}" y="{_fmt(cy + 4)}" text-anchor="end"{weight}>'
            f"{escape(label.strip())}</text>"
        )
        if low is not None and high is not None:
            out.append(
                f'<line x1="{_fmt(x(low))}" x2="{_fmt(x(high))}" y1="{_fmt(cy)}" y2="{_fmt(cy)}" stroke="#4e79a7" stroke-width="2"/>'
            )
        if value is not None:
            fill = "#4e79a7" if strong else "#fff"
            out.append(
                f'<circle cx="{_fmt(x(value))}" cy="{_fmt(cy)}" r="5" fill="{fill}" stroke="#4e79a7" stroke-width="2">'
                f"<title>{escape(label)}: {value * scale:.1f}</title></circle>"
            )
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


LEGEND_CHARS = 36
"""Longest legend label a line chart shows in full (longer ones lose their start)."""


def _y_ticks(lo: float, hi: float, log_y: bool) -> list[tuple[float, str]]:
    """(position, label) of the y ticks. On a log axis (positions are log10 of the values)
    the labels are values, never exponents such as 1e1.4: whole powers of ten when the range
    spans one or more, else round values within it."""
    if not log_y:
        return [(t, f"{t:g}") for t in _nice_ticks(lo, hi, 5)]
    if hi - lo >= 1:
        powers = range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)
        step = max(1, math.ceil(len(powers) / 6))
        return [(float(k), _power_label(k)) for k in powers[::step]]
    values = [v for v in _nice_ticks(10**lo, 10**hi, 4) if v > 0]
    return [(math.log10(v), f"{v:g}") for v in values]


def _power_label(k: int) -> str:
    return f"{10.0**k:g}" if -3 <= k <= 4 else f"1e{k}"


def lines(
    series: Sequence[Series], title: str, x_label: str, y_label: str, log_y: bool = False
) -> str:
    """Line chart with markers and a legend; log_y for singular value spectra."""

    def tr(v: float) -> float | None:
        if log_y:
            return math.log10(v) if v > 0 else None
        return v

    points = [
        (sx, ty)
        for s in series
        for sx, sy in zip(s.x, s.y, strict=False)
        if sy is not None and (ty := tr(sy)) is not None
    ]
    # the legend gets the room its longest label needs (about 7 px a character), up to 300 px
    longest = max((len(s.label) for s in series), default=0)
    left, right, top, bottom = 60, max(170, min(300, 7 * min(longest, LEGEND_CHARS) + 48)), 16, 44
    width, height = 470 + right, 300
    plot_w, plot_h = width - left - right, height - top - bottom
    out = _open(width, height, title)
    if not points:
        out.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text></svg>'
        )
        return "\n".join(out)
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - (abs(y_lo) * 0.1 or 1), y_hi + (abs(y_hi) * 0.1 or 1)
    if not log_y:
        y_lo = min(y_lo, 0.0) if y_lo >= 0 and y_lo < 0.25 * y_hi else y_lo

    def px(v: float) -> float:
        return left + plot_w * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        return top + plot_h * (1 - (v - y_lo) / (y_hi - y_lo))

    for t, label in _y_ticks(y_lo, y_hi, log_y):
        if y_lo <= t <= y_hi:
            out.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{_fmt(py(t))}" y2="{_fmt(py(t))}" stroke="#eee"/>'
            )
            out.append(
                f'<text x="{left - 6}" y="{_fmt(py(t) + 4)}" text-anchor="end">{label}</text>'
            )
    integer_x = all(float(v).is_integer() for s in series for v in s.x)
    for t in _nice_ticks(x_lo, x_hi, 6):
        if x_lo <= t <= x_hi and (not integer_x or float(t).is_integer()):
            out.append(
                f'<text x="{_fmt(px(t))}" y="{top + plot_h + 16}" text-anchor="middle">{t:g}</text>'
            )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        segment: list[str] = []
        paths: list[list[str]] = []
        for sx, sy in zip(s.x, s.y, strict=False):
            ty = tr(sy) if sy is not None else None
            if ty is None:
                if segment:
                    paths.append(segment)
                segment = []
                continue
            segment.append(f"{_fmt(px(sx))} {_fmt(py(ty))}")
        if segment:
            paths.append(segment)
        for seg in paths:
            out.append(
                f'<path d="M{"L".join(seg)}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>'
            )
            if len(seg) <= 40:
                for p in seg:
                    cx, cy = p.split()
                    out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
        ly = top + 12 + 16 * i
        if ly < height - 10:
            out.append(
                f'<line x1="{width - right + 10}" x2="{width - right + 30}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" stroke-width="2"{dash}/>'
            )
            out.append(
                f'<text x="{width - right + 36}" y="{ly}">'
                f"{escape(clip_start(s.label, LEGEND_CHARS))}</text>"
            )
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def scatter_diagonal(points: Sequence[Point], title: str, x_label: str, y_label: str) -> str:
    """Accuracy on the unchanged items (x) vs on the variants (y) in percent with the y = x
    diagonal, the title drawn above the plot: points below the diagonal score worse on the
    variants. With reference points, a grey band spans
    the references' reformatting gaps (x - y, smallest to largest) along the diagonal: a model
    below the band loses more than every reference when its questions are reformatted."""
    size, margin = 420, 56
    plot = size - 2 * margin
    out = _open(size + 200, size, title)
    out.append(f'<text x="{margin}" y="{margin - 24}" font-weight="bold">{escape(title)}</text>')
    lo = 0.0
    hi = 1.0

    def px(v: float) -> float:
        return margin + plot * (v - lo) / (hi - lo)

    def py(v: float) -> float:
        return margin + plot * (1 - (v - lo) / (hi - lo))

    for t in _nice_ticks(0, 100, 5):
        v = t / 100
        out.append(
            f'<line x1="{_fmt(px(v))}" x2="{_fmt(px(v))}" y1="{margin}" y2="{margin + plot}" stroke="#eee"/>'
        )
        out.append(
            f'<line x1="{margin}" x2="{margin + plot}" y1="{_fmt(py(v))}" y2="{_fmt(py(v))}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{_fmt(px(v))}" y="{margin + plot + 16}" text-anchor="middle">{t:g}</text>'
        )
        out.append(f'<text x="{margin - 6}" y="{_fmt(py(v) + 4)}" text-anchor="end">{t:g}</text>')
    gaps = [p.x - p.y for p in points if p.reference]
    if gaps:
        g_lo, g_hi = min(gaps), max(gaps)
        corners = [(lo - 1, lo - 1 - g_lo), (hi + 1, hi + 1 - g_lo),
                   (hi + 1, hi + 1 - g_hi), (lo - 1, lo - 1 - g_hi)]  # fmt: skip
        polygon = " ".join(f"{_fmt(px(x))},{_fmt(py(y))}" for x, y in corners)
        out.append(
            f'<clipPath id="plot-area"><rect x="{margin}" y="{margin}" width="{plot}" '
            f'height="{plot}"/></clipPath>'
            f'<polygon points="{polygon}" fill="#bab0ac" fill-opacity="0.35" stroke="#bab0ac" '
            f'clip-path="url(#plot-area)"><title>references: reformatting gap '
            f"{100 * g_lo:+.1f} to {100 * g_hi:+.1f} points</title></polygon>"
        )
    out.append(
        f'<line x1="{_fmt(px(lo))}" y1="{_fmt(py(lo))}" x2="{_fmt(px(hi))}" y2="{_fmt(py(hi))}" '
        'stroke="#888" stroke-dasharray="5 4"><title>y = x: no gap</title></line>'
    )
    out.append(
        f'<rect x="{margin}" y="{margin}" width="{plot}" height="{plot}" fill="none" stroke="#999"/>'
    )
    for i, p in enumerate(points):
        color = "#79706e" if p.reference else PALETTE[i % len(PALETTE)]
        fill = (
            f'fill="#fff" stroke="{color}" stroke-width="2"' if p.reference else f'fill="{color}"'
        )
        out.append(
            f'<circle cx="{_fmt(px(p.x))}" cy="{_fmt(py(p.y))}" r="6" {fill}>'
            f"<title>{escape(p.label)}: {100 * p.x:.1f} vs {100 * p.y:.1f}</title></circle>"
        )
        ly = margin + 16 * i
        out.append(f'<circle cx="{size + 10}" cy="{ly - 4}" r="5" {fill}/>')
        out.append(f'<text x="{size + 20}" y="{ly}">{escape(clip_start(p.label, 28))}</text>')
    out.append(
        f'<text x="{margin + plot / 2}" y="{size - 12}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {margin + plot / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def clip_start(label: str, width: int) -> str:
    """``label`` cut to ``width`` characters from the left: model names and paths differ
    at their end (".../models/base" vs ".../models/benchmark-aligned")."""
    return label if len(label) <= width else "\u2026" + label[-(width - 1) :]
