"""The one-page A4 PDF of a site profile, drawn with matplotlib (no HTML-to-PDF engine).

The header blocks (title, key facts, the planner's own columns, exclusion and the "nicht
entscheidungsreif" warning with every missing criterion) are wrapped to the page width
and stacked from the top; the location map and score summary take the room left above
the contribution chart, the criteria table and the footer.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from handwerkgeo.export._labels import TEXT
from handwerkgeo.messages import message

__all__ = [
    "A4_PORTRAIT_IN",
    "Line",
    "draw_header",
    "pdf_header",
    "pdf_page",
    "shorten",
    "style_table",
    "symbol_notes",
]


def shorten(text: str, width: int, ellipsis: str = " …") -> str:
    """Collapse white space and cut ``text`` at a word boundary to at most ``width`` chars.

    >>> shorten("Gewerbefläche an der   Henkelstraße in Reisholz", 30)
    'Gewerbefläche an der …'
    """
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: max(width - len(ellipsis), 0)]
    word_cut = cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut
    # cut inside a long word rather than drop most of the text (a 300-letter name)
    if len(word_cut) >= len(cut) // 2:
        cut = word_cut
    return cut.rstrip() + ellipsis


A4_PORTRAIT_IN = (8.27, 11.69)


@dataclass(frozen=True)
class Line:
    """A block of header text on the PDF page."""

    text: str
    size: float
    colour: str = "#222222"
    weight: str = "normal"


def pdf_header(
    card: dict[str, Any], meta: list[tuple[str, str]], excluded_reason: str | None, lang: str
) -> list[Line]:
    """The text blocks above the map: title, key facts, the planner's own columns,
    exclusion, and the decision warning or the missing criteria — never cut short."""
    t = TEXT[lang]
    # a 300-letter name or a page-long remark is cut here (the HTML profile has it whole);
    # the exclusion reason and the missing criteria never are
    title = shorten(f"{t['profile_title']}: {card['title']}", 200, " …")
    lines = [Line(title, 13, weight="bold")]
    lines.append(Line(" · ".join(f"{a}: {b}" for a, b in meta), 8, "#444444"))
    if card["attributes"]:
        attrs = " · ".join(f"{a}: {b}" for a, b in card["attributes"])
        text = shorten(f"{message('attributes_label', lang)}: {attrs}", 480, " …")
        lines.append(Line(text, 8, "#444444"))
    if excluded_reason is not None:
        lines.append(Line(f"{t['excluded']}: {excluded_reason}", 8, "#b00000"))
    if card["warning"]:
        lines.append(Line(card["warning"], 8.5, "#a04000", "bold"))
    else:
        missing = dict(card["summary"]).get(t["missing"])
        if missing:
            lines.append(Line(f"{t['missing']}: {missing}", 8, "#444444"))
    return lines


def draw_header(fig: Figure, lines: list[Line]) -> float:
    """Draw the header blocks from the top; the figure fraction where they end."""
    y = 0.965
    for line in lines:
        # characters per line over the 0.88 page width (DejaVu Sans: ~0.55 em per
        # character, ~0.63 em in bold)
        em = 0.63 if line.weight == "bold" else 0.55
        width = int(0.88 * A4_PORTRAIT_IN[0] * 72 / (em * line.size))
        wrapped = textwrap.fill(" ".join(line.text.split()), width, break_on_hyphens=False)
        fig.text(
            0.06,
            y,
            wrapped,
            fontsize=line.size,
            color=line.colour,
            weight=line.weight,
            va="top",
            parse_math=False,
        )
        y -= (wrapped.count("\n") + 1) * line.size * 1.3 / (A4_PORTRAIT_IN[1] * 72) + 0.006
    return y


def pdf_page(
    card: dict[str, Any],
    head: list[Line],
    draw_location: Any,
    draw_bars: Any,
    crit_rows: list[list[str]],
    footer: str,
    lang: str,
) -> bytes:
    """The page; every symbol used in the criteria table (``*``, ``–``) is explained
    beneath it, and no missing criterion is cut (they are listed in the header)."""
    t = TEXT[lang]
    fig = Figure(figsize=A4_PORTRAIT_IN)
    title = head[0].text
    top = min(0.86, draw_header(fig, head) - 0.005)
    height = max(top - 0.56, 0.12)
    ax_map = fig.add_axes((0.06, 0.56, 0.42, height))
    draw_location(ax_map)
    ax_sum = fig.add_axes((0.52, 0.56, 0.42, height))
    ax_sum.set_axis_off()
    # the missing criteria are listed in full in the header, not cut in this table
    summary = [
        [shorten(a, 34, "…"), shorten(b, 40, " …")] for a, b in card["summary"] if a != t["missing"]
    ]
    height = min(1.0, 0.085 * max(len(summary), 1))
    tbl = ax_sum.table(
        cellText=summary or [["", ""]],
        cellLoc="left",
        edges="horizontal",
        bbox=[0.0, 1.0 - height, 1.0, height],  # type: ignore[arg-type]
    )
    style_table(tbl, 7.5)
    ax_bars = fig.add_axes((0.33, 0.33, 0.6, 0.2))
    draw_bars(ax_bars)
    # the footer (sources) takes what it needs at the bottom; the criteria table fits into
    # the space between footer and bar chart (bbox), so the two never overlap
    footer_text = textwrap.fill(footer, 170)
    footer_top = 0.012 + (footer_text.count("\n") + 1) * 5.5 * 1.3 / (A4_PORTRAIT_IN[1] * 72)
    notes = symbol_notes(crit_rows, lang)
    notes_top = footer_top + 0.006 + len(notes) * 7 * 1.35 / (A4_PORTRAIT_IN[1] * 72)
    for k, note in enumerate(notes):
        fig.text(
            0.06,
            notes_top - k * 7 * 1.35 / (A4_PORTRAIT_IN[1] * 72),
            note,
            fontsize=7,
            color="#333333",
            va="top",
            parse_math=False,
        )
    table_bottom = min(notes_top + 0.01, 0.2)
    ax_tab = fig.add_axes((0.06, table_bottom, 0.88, 0.29 - table_bottom))
    ax_tab.set_axis_off()
    header = [t["criterion"], t["weight"], t["raw"], t["utility"], t["contribution"]]
    tbl2 = ax_tab.table(
        cellText=crit_rows or [[""] * 5],
        colLabels=header,
        cellLoc="left",
        edges="horizontal",
        bbox=[0.0, 0.0, 1.0, 1.0],  # type: ignore[arg-type]
    )
    style_table(tbl2, 7)
    fig.text(
        0.06,
        0.012,
        footer_text,
        fontsize=5.5,
        color="#444444",
        va="bottom",
        parse_math=False,
    )
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": title, "Creator": "handwerkgeo"}) as pdf:
        pdf.savefig(fig)
    return buf.getvalue()


def symbol_notes(crit_rows: list[list[str]], lang: str) -> list[str]:
    """One line per symbol the criteria table uses: ``*`` (fallback) and ``–`` (no value)."""
    t = TEXT[lang]
    cells = [c for r in crit_rows for c in r[1:]]
    notes = []
    if any(c.endswith(" *") for c in cells):
        notes.append(f"* {t['fallback_note']}")
    if any(c.strip() == "–" for c in cells):
        notes.append(t["dash_note"])
    return notes


def style_table(tbl: Any, size: float) -> None:
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(size)
    for cell in tbl.get_celld().values():
        cell.get_text().set_parse_math(False)
        cell.set_linewidth(0.3)
    ncols = max(col for _, col in tbl.get_celld()) + 1
    tbl.auto_set_column_width(list(range(ncols)))
