"""Small SVG charts rendered on the server (no JavaScript, no build): bars and columns.

Every label is escaped; colours come from CSS classes (``bar``, ``bar-<class>``).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 28
LABEL_WIDTH = 170
WIDTH = 520


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css: str = ""
    shown: str | None = None  # the value as printed (default: the number)


def bar_chart(bars: list[Bar], title: str) -> Markup:
    """Horizontal bars, one per row, with the value printed after each bar."""
    top = max((b.value for b in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    height = max(1, len(bars)) * ROW + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        width = round(span * bar.value / top, 1) if bar.value > 0 else 0
        shown = bar.shown if bar.shown is not None else _number(bar.value)
        css = f"bar bar-{escape(bar.css)}" if bar.css else "bar"
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 17}" '
            f'text-anchor="end">{escape(_clip(bar.label))}</text>'
            f'<rect class="{css}" x="{LABEL_WIDTH}" y="{y + 4}" width="{width}" height="{ROW - 10}"'
            f' rx="3"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 6}" y="{y + 17}">'
            f"{escape(shown)}</text>"
        )
    if not bars:
        parts.append('<text class="chart-label" x="8" y="20">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(columns: list[Bar], title: str) -> Markup:
    """Vertical columns (e.g. one per day), labels under every few columns."""
    height, base, top_pad = 180, 150, 14
    top = max((c.value for c in columns), default=0) or 1
    count = max(1, len(columns))
    step = (WIDTH - 40) / count
    every = max(1, count // 8)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="30" y1="{base}" x2="{WIDTH - 6}" y2="{base}"/>',
        f'<text class="chart-value" x="2" y="{top_pad + 4}">{escape(_number(top))}</text>',
    ]
    for i, col in enumerate(columns):
        x = 34 + i * step
        h = round((base - top_pad) * col.value / top, 1) if col.value > 0 else 0
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h}" width="{max(step - 3, 1):.1f}" '
            f'height="{h}"><title>{escape(col.label)}: {escape(_number(col.value))}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text class="chart-label small" x="{x:.1f}" y="{base + 16}">'
                f"{escape(col.label[-5:])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Series:
    """One instrument's totals over time: ``points`` are (label, value), oldest first."""

    name: str
    maximum: float
    points: list[tuple[str, float]]


def score_chart(series: list[Series], title: str) -> Markup:
    """Scores over time, one small line per instrument, each on its own 0–max scale."""
    row, left, right = 64, 90, WIDTH - 16
    height = max(1, len(series)) * row + 4
    parts = [
        f'<svg class="chart scores" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, line in enumerate(series):
        top, base = 8 + i * row, 8 + i * row + row - 22
        top_value = line.maximum or max((v for _, v in line.points), default=1) or 1
        count = len(line.points)
        step = (right - left) / max(1, count - 1)
        coords = [
            (
                left + (j * step if count > 1 else (right - left) / 2),
                base - (base - top) * v / top_value,
            )
            for j, (_, v) in enumerate(line.points)
        ]
        parts.append(
            f'<text class="chart-label" x="4" y="{top + 20}">{escape(_clip(line.name, 12))}</text>'
            f'<line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>'
        )
        if count > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="score-line" points="{path}"/>')
        for (x, y), (label, value) in zip(coords, line.points, strict=True):
            parts.append(
                f'<circle class="score-dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                f"<title>{escape(label)}: {escape(_number(value))}</title></circle>"
                f'<text class="chart-value" x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">'
                f"{escape(_number(value))}</text>"
            )
        if line.points:
            parts.append(
                f'<text class="chart-label small" x="{left}" y="{base + 14}">'
                f"{escape(line.points[0][0])}</text>"
            )
            if count > 1:
                parts.append(
                    f'<text class="chart-label small" x="{right}" y="{base + 14}" '
                    f'text-anchor="end">{escape(line.points[-1][0])}</text>'
                )
    if not series:
        parts.append('<text class="chart-label" x="8" y="20">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
