"""Charts as server-rendered SVG: no script, nothing from another site (the CSP allows only
'self'), readable without JavaScript, printable. Presentation attributes only (fill, stroke),
never style attributes, which the CSP would block."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

CELL, LEFT, TOP = 22, 40, 20
BLUE = "#2f6f9f"


def heatmap(cells: list[dict], *, weekday_labels: list[str], title: str) -> SafeString:
    """7 rows (weekdays) × 24 columns (hours); darker is busier. cells: weekday, hour, check_ins."""
    top = max((c["check_ins"] for c in cells), default=0) or 1
    index = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
    width, height = LEFT + 24 * CELL + 10, TOP + 7 * CELL + 10
    rects = format_html_join(
        "",
        '<rect class="cell" x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}">'
        "<title>{} {}:00 – {}</title></rect>",
        (
            (
                LEFT + c["hour"] * CELL,
                TOP + index[c["weekday"]] * CELL,
                CELL - 2,
                CELL - 2,
                BLUE,
                f"{0.05 + 0.95 * c['check_ins'] / top:.2f}",
                weekday_labels[index[c["weekday"]]],
                c["hour"],
                c["check_ins"],
            )
            for c in cells
        ),
    )
    days = format_html_join(
        "",
        '<text x="2" y="{}" font-size="11">{}</text>',
        ((TOP + i * CELL + 15, label) for i, label in enumerate(weekday_labels)),
    )
    hours = format_html_join(
        "", '<text x="{}" y="14" font-size="10">{}</text>', ((LEFT + h * CELL + 4, f"{h:02d}") for h in range(0, 24, 2))
    )
    return format_html(
        '<svg class="chart heatmap" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}">{}{}{}</svg>',
        title,
        width,
        height,
        width,
        height,
        days,
        hours,
        rects,
    )


def lines(
    points: list[dict], *, keys: list[tuple[str, str, str]], x_key: str, title: str, width: int = 640, height: int = 220
) -> SafeString:
    """One polyline per key (key, label, colour) over the points, with a labelled x axis."""
    top = max((p[k] for p in points for k, _l, _c in keys), default=0) or 1
    n = max(len(points) - 1, 1)
    plot_w, plot_h = width - LEFT - 10, height - TOP - 30

    def xy(i, value):
        return f"{LEFT + i * plot_w / n:.1f},{TOP + plot_h - value * plot_h / top:.1f}"

    polylines = format_html_join(
        "",
        '<polyline class="series" fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>',
        ((colour, " ".join(xy(i, p[key]) for i, p in enumerate(points)), label) for key, label, colour in keys),
    )
    step = max(len(points) // 8, 1)
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10">{}</text>',
        (
            (f"{LEFT + i * plot_w / n - 6:.1f}", height - 12, str(p[x_key])[-5:])
            for i, p in enumerate(points)
            if i % step == 0
        ),
    )
    legend = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>',
        ((LEFT + 130 * j, height - 1, colour, label) for j, (_k, label, colour) in enumerate(keys)),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"/><text x="2" y="{}" font-size="10">{}</text>',
        LEFT,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + 8,
        top,
    )
    return format_html(
        '<svg class="chart lines" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}">{}{}{}{}</svg>',
        title,
        width,
        height,
        width,
        height,
        axis,
        polylines,
        ticks,
        legend,
    )


def empty(message: str) -> SafeString:
    return format_html('<p class="chart-empty">{}</p>', message) if message else mark_safe("")
