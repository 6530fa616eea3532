"""Bar charts drawn on the server as inline SVG: no script and no style attribute (strict CSP).

Colours are SVG presentation attributes with a contrast of at least 4.5:1 on white; every chart is an
image with a title and a description that reads out its numbers, and the page repeats them in a table.
"""

from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

BAR = "#1f3b5b"  # navy: 11:1 on white
INK = "#1b1f24"
MUTED = "#4a5462"  # 7.6:1 on white
RULE = "#d5d9df"  # decorative baseline only
WIDTH = 720
FONT = 14
MAX_LABEL = 40


def _number(value) -> str:
    return number_format(value, decimal_pos=None if isinstance(value, int) else 1, use_l10n=True)


def _svg(slug: str, title: str, items: Sequence[tuple[str, float]], height: int, body: SafeString) -> SafeString:
    description = " ; ".join(f"{label} : {_number(value)}" for label, value in items)
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="{0}-title {0}-desc" viewBox="0 0 {1} {2}" '
        'focusable="false" xmlns="http://www.w3.org/2000/svg" font-size="{3}">'
        '<title id="{0}-title">{4}</title><desc id="{0}-desc">{5}</desc>{6}</svg>',
        f"chart-{slug}",
        WIDTH,
        height,
        FONT,
        title,
        description,
        body,
    )


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def hbar_chart(items: Sequence[tuple[str, float]], *, slug: str, title: str) -> SafeString:
    """One horizontal bar per (label, value), the label on the left and the value after the bar.

    Nothing to draw (no rows, or only zeros) gives an empty string: the table says it.
    """
    largest = max((value for _, value in items), default=0)
    if not largest:
        return mark_safe("")
    label_width, value_room, row, bar = 330, 70, 30, 18
    scale = (WIDTH - label_width - 10 - value_room) / largest
    bars = format_html_join(
        "",
        '<text x="{0}" y="{1}" text-anchor="end" fill="{2}">{3}</text>'
        '<rect x="{4}" y="{5}" width="{6}" height="{7}" fill="{8}"></rect>'
        '<text x="{9}" y="{1}" fill="{2}" font-weight="bold">{10}</text>',
        (
            (
                label_width,
                index * row + 20,
                INK,
                _short(label),
                label_width + 10,
                index * row + 6,
                round(value * scale, 1),
                bar,
                BAR,
                round(label_width + 16 + value * scale, 1),
                _number(value),
            )
            for index, (label, value) in enumerate(items)
        ),
    )
    height = len(items) * row + 6
    axis = format_html(
        '<line x1="{0}" y1="0" x2="{0}" y2="{1}" stroke="{2}" stroke-width="1"></line>',
        label_width + 10,
        height,
        RULE,
    )
    return _svg(slug, title, items, height, axis + bars)


def month_chart(rows: Sequence, *, slug: str, title: str) -> SafeString:
    """Vertical bars per month (rows with `code` YYYY-MM, `label` and `count`); the year under each January."""
    largest = max((row.count for row in rows), default=0)
    if not largest:
        return mark_safe("")
    top, chart_height, bottom = 24, 180, 44
    step = (WIDTH - 20) / len(rows)
    width = step * 0.6
    scale = chart_height / largest

    def column(index, row):
        x = 10 + index * step + (step - width) / 2
        height = row.count * scale
        middle = round(x + width / 2, 1)
        month, _, year = row.label.rpartition(" ")
        show_year = index == 0 or row.code.endswith("-01")
        return (
            round(x, 1),
            round(top + chart_height - height, 1),
            round(width, 1),
            round(height, 1),
            BAR,
            middle,
            round(top + chart_height - height - 6, 1),
            INK,
            _number(row.count),
            top + chart_height + 18,
            month,
            top + chart_height + 36,
            MUTED,
            year if show_year else "",
        )

    bars = format_html_join(
        "",
        '<rect x="{0}" y="{1}" width="{2}" height="{3}" fill="{4}"></rect>'
        '<text x="{5}" y="{6}" text-anchor="middle" fill="{7}" font-weight="bold">{8}</text>'
        '<text x="{5}" y="{9}" text-anchor="middle" fill="{7}">{10}</text>'
        '<text x="{5}" y="{11}" text-anchor="middle" fill="{12}">{13}</text>',
        (column(index, row) for index, row in enumerate(rows)),
    )
    baseline = format_html(
        '<line x1="10" y1="{0}" x2="{1}" y2="{0}" stroke="{2}" stroke-width="1"></line>',
        top + chart_height,
        WIDTH - 10,
        RULE,
    )
    items = [(row.label, row.count) for row in rows]
    return _svg(slug, title, items, top + chart_height + bottom, baseline + bars)
