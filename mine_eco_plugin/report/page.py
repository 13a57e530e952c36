"""The HTML page of the report: sections of numbered figures with captions, tables (numbers
right-aligned, data-* attributes for machines, a footer), the user's parameters as one table per
step, and the list of the sections left out.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class ReportFigure:
    """An image of the report: its path relative to the HTML file, caption (what it shows and
    from which inputs), alt text and kind ("map": laid out two by two; "chart": one per row,
    never wider than drawn)."""

    src: str
    caption: str
    alt: str = ""
    kind: str = "map"


@dataclass
class Section:
    """One section: id, heading, one-line caption, figures, and HTML blocks (tables, notes)."""

    key: str
    title: str
    caption: str
    figures: list[ReportFigure] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)


def parts_section(key: str, title: str, caption: str, parts, lead: str = ": ") -> Section:
    """A section made of ``parts``, each (figure or None, HTML block or None, caption fact or
    ''), in page order; the facts follow the caption after ``lead``."""
    figures = [figure for figure, _, _ in parts if figure is not None]
    blocks = [block for _, block, _ in parts if block is not None]
    facts = [fact for _, _, fact in parts if fact]
    caption += f"{lead}{'; '.join(facts)}." if facts else "."
    return Section(key, title, caption, figures, blocks)


class Markup(str):
    """Table cell text that is already HTML (inserted as it is, not escaped)."""


def format_value(value, decimals: int = 4) -> str:
    """Table cell text: '–' for missing, numbers with ``decimals`` (integers as they are)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def number(value) -> float | None:
    """A table cell as a finite number; None for text, booleans, missing or non-finite
    values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def html_table(
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    table_id: str = "",
    decimals: int = 4,
    footer: Sequence[Sequence] = (),
    cell_attributes: Sequence[Sequence[dict]] | None = None,
    caption: str = "",
) -> str:
    """An HTML table; numbers right-aligned with ``decimals``; ``footer`` rows in <tfoot>.
    ``cell_attributes`` (per row, per cell) add data-* attributes (machine-readable values);
    ``Markup`` cells are inserted as HTML. The table sits in a box that scrolls sideways
    rather than widen the page."""

    def cells(row, tag, attributes=None):
        out = []
        for j, value in enumerate(row):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            given = {"class": "num" if numeric else None}
            given.update((attributes[j] if attributes else None) or {})
            extra = "".join(
                f' {key}="{html.escape(str(item), quote=True)}"'
                for key, item in given.items()
                if item is not None
            )
            text = (
                value if isinstance(value, Markup) else html.escape(format_value(value, decimals))
            )
            out.append(f"<{tag}{extra}>{text}</{tag}>")
        return "".join(out)

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        f"<tr>{cells(row, 'td', cell_attributes[i] if cell_attributes else None)}</tr>"
        for i, row in enumerate(rows)
    )
    foot = "".join(f"<tr>{cells(row, 'th')}</tr>" for row in footer)
    identity = f' id="{html.escape(table_id, quote=True)}"' if table_id else ""
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="data"{identity}>{title}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        + (f"<tfoot>{foot}</tfoot>" if foot else "")
        + "</table></div>"
    )


def file_name(path: str) -> str:
    """The file name of a layer source (without the folder and any '|layername=…')."""
    text = str(path or "").split("|", 1)[0].replace("\\", "/").rstrip("/")
    return text.rsplit("/", 1)[-1] or str(path)


def file_cell(path: str) -> Markup:
    """A file as its name, the full path shown on hover (title) rather than in the page."""
    path = str(path or "")
    if not path or path == "memory layer":
        return Markup(html.escape(path or "–"))
    return Markup(
        f'<span class="file" title="{html.escape(path, quote=True)}">'
        f"{html.escape(file_name(path))}</span>"
    )


def settings_cell(items: Sequence[tuple[str, str]], what: str = "setting") -> Markup:
    """Settings recorded in a file (or a table's columns, ``what="column"`` with empty
    values): a folded list (<details>) that opens on a click."""
    if not items:
        return Markup("–")
    entries = "".join(
        f"<li><code>{html.escape(str(key))}</code>"
        + (f" = {html.escape(str(value))}" if value != "" else "")
        + "</li>"
        for key, value in items
    )
    count = len(items)
    return Markup(
        f"<details><summary>{count} {what}{'s' if count != 1 else ''}</summary>"
        f'<ul class="settings">{entries}</ul></details>'
    )


def _rich_text(text: str) -> Markup:
    """Plain text with its line breaks kept and **bold** spans bolded (the markup of
    docstrings and notes users paste into PARAMETERS)."""
    escaped = html.escape(text)
    parts = escaped.split("**")
    if len(parts) % 2 == 1:  # balanced pairs only
        escaped = "".join(
            f"<strong>{part}</strong>" if i % 2 else part for i, part in enumerate(parts)
        )
    return Markup(escaped.strip().replace("\n", "<br>"))


def _parameter_value(value) -> Markup | float | int | str:
    if isinstance(value, str):
        return _rich_text(value)
    if isinstance(value, bool) or value is None:
        return format_value(value)
    if isinstance(value, int | float):
        return str(value)  # as given (0.6, not 0.600000)
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(format_value(v, 6) for v in value)
    return Markup(f"<code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>")


def parameters_block(text: str) -> str:
    """The user's parameter text: JSON objects as one table per step (a top-level key whose
    value is an object), the other top-level entries in a first table "General"; any other
    text in a <pre> as given."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        shown = (
            json.dumps(parsed, indent=2, ensure_ascii=False) if isinstance(parsed, list) else text
        )
        return f'<pre class="parameters">{html.escape(shown)}</pre>'
    general = [(k, v) for k, v in parsed.items() if not isinstance(v, dict)]
    steps = [(k, v) for k, v in parsed.items() if isinstance(v, dict)]
    blocks = []
    for number, (name, items) in enumerate(
        ([("General", dict(general))] if general else []) + steps, start=1
    ):
        blocks.append(
            f'<h3 class="step">{html.escape(str(name))}</h3>'
            + html_table(
                ["Parameter", "Value"],
                [(str(key), _parameter_value(value)) for key, value in items.items()],
                table_id=f"parameters-{number}",
                decimals=6,
            )
        )
    return "".join(blocks)


def render_page(
    title: str,
    sections: Sequence[Section],
    omitted: Sequence[tuple[str, str, str]],
    *,
    css: str = "",
    subtitle: str = "",
) -> str:
    """The whole report page. ``omitted`` holds (section id, heading, reason) of each section
    left out; they are listed after the contents."""
    esc = html.escape
    contents = "".join(
        f'<li><a href="#{esc(s.key, quote=True)}">{esc(s.title)}</a></li>' for s in sections
    )
    if omitted:
        missing = "".join(
            f'<li data-section="{esc(key, quote=True)}"><b>{esc(heading)}</b>: {esc(reason)}</li>'
            for key, heading, reason in omitted
        )
        omitted_html = (
            '<section id="omitted"><h2>Sections omitted</h2>'
            '<p class="caption">Sections whose inputs were not given.</p>'
            f'<ul class="omitted">{missing}</ul></section>'
        )
    else:
        omitted_html = (
            '<section id="omitted"><h2>Sections omitted</h2>'
            '<p class="caption">None: every section had its input.</p></section>'
        )
    body = []
    number = 0
    for section in sections:
        parts = [
            f'<section id="{esc(section.key, quote=True)}">',
            f"<h2>{esc(section.title)}</h2>",
            f'<p class="caption">{esc(section.caption)}</p>',
        ]
        if section.figures:
            parts.append('<div class="figures">')
            for figure in section.figures:
                number += 1
                parts.append(
                    f'<figure class="{esc(figure.kind, quote=True)}" id="figure-{number}">'
                    f'<img src="{esc(figure.src, quote=True)}" '
                    f'alt="{esc(figure.alt or figure.caption, quote=True)}">'
                    f"<figcaption><b>Figure {number}.</b> {esc(figure.caption)}</figcaption>"
                    "</figure>"
                )
            parts.append("</div>")
        parts.extend(section.blocks)
        parts.append("</section>")
        body.append("".join(parts))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>"
        + (f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else "")
        + '</header><nav id="contents"><h2>Contents</h2>'
        f"<ol>{contents}</ol></nav>" + omitted_html + "\n".join(body) + "</body></html>\n"
    )
