"""Server-rendered SVG charts: this module computes shapes (no Django), a template draws them."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = ""


@dataclass
class Chart:
    width: int
    height: int
    label: str
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


def horizontal_bars(
    rows: list[tuple[str, int, str]], *, label: str, width: int = 560, label_width: int = 170, row: int = 24
) -> Chart:
    """One bar per (name, value, value as text), longest bar = the largest value."""
    chart = Chart(width=width, height=max(row * len(rows), row), label=label)
    top = max((value for _name, value, _text in rows), default=0) or 1
    room = width - label_width - 90
    for n, (name, value, text) in enumerate(rows):
        y = n * row
        length = room * value / top
        chart.rects.append(Rect(label_width, y + 4, max(length, 1 if value else 0), row - 8, "bar", f"{name}: {text}"))
        chart.texts.append(Text(label_width - 6, y + row / 2 + 4, name[:28], "end"))
        chart.texts.append(Text(label_width + length + 6, y + row / 2 + 4, text, "start", "value"))
    return chart


def stacked_columns(
    columns: list[tuple[str, list[int]]], *, label: str, series: list[str], width: int = 560, height: int = 200
) -> Chart:
    """Columns of stacked values (one css class per series), with every other column labelled underneath."""
    chart = Chart(width=width, height=height, label=label)
    plot = height - 36
    top = max((sum(values) for _name, values in columns), default=0) or 1
    step = width / max(len(columns), 1)
    for n, (name, values) in enumerate(columns):
        x, base = n * step + step * 0.15, plot
        for css, value in zip(series, values, strict=True):
            size = plot * value / top * 0.9
            if value:
                chart.rects.append(Rect(x, base - size, step * 0.7, size, css, f"{name}: {value}"))
            base -= size
        if sum(values):
            chart.texts.append(Text(x + step * 0.35, base - 4, str(sum(values)), "middle", "value"))
        if n % 2 == 0 or len(columns) <= 8:
            chart.texts.append(Text(x + step * 0.35, height - 18, name, "middle", "axis"))
    return chart


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
