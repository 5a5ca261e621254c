"""PDF reports of a result and of a roadmap, made with ReportLab (pure pip install).

The text font is Bitstream Vera Sans, which ships inside the ReportLab package (licence:
reportlab/fonts/bitstream-vera-license.txt, redistribution and embedding allowed); it is
embedded as a subset, so umlauts, ß and typographic quotes render on every viewer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .engine import charts
from .presentation import ResultView

FONT, BOLD = "LeitplankeSans", "LeitplankeSans-Bold"
PRIMARY = colors.HexColor("#0f5c8c")
MUTED = colors.HexColor("#5b6472")
BORDER = colors.HexColor("#d9dde4")
SERIES_COLOURS = [colors.HexColor("#0f5c8c"), colors.HexColor("#c2410c"), colors.HexColor("#15803d")]


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
        pdfmetrics.registerFont(TTFont(f"{FONT}-Italic", "VeraIt.ttf"))
        pdfmetrics.registerFont(TTFont(f"{FONT}-BoldItalic", "VeraBI.ttf"))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=f"{FONT}-Italic", boldItalic=f"{FONT}-BoldItalic")


def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT)
    return {
        "body": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8.5, leading=11),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=18, leading=22, spaceAfter=4),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=4, textColor=PRIMARY
        ),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=10, leading=13, spaceBefore=4),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=10, bulletIndent=0),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _document(title: str, story: list[Any]) -> bytes:
    _fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="Leitplanke",
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 9 * mm, f"Leitplanke · {title}")
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, str(doc.page))
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def radar_drawing(radar: charts.Radar, *, scale: float = 0.44) -> Drawing:
    """The radar chart as vector graphics (ReportLab's y axis points up)."""
    height = radar.height

    def flip(points: Sequence[float]) -> list[float]:
        return [value * scale if index % 2 == 0 else (height - value) * scale for index, value in enumerate(points)]

    def coords(polygon: str) -> list[float]:
        return [float(number) for pair in polygon.split() for number in pair.split(",")]

    drawing = Drawing(radar.width * scale, height * scale)
    for ring in radar.rings:
        drawing.add(Polygon(flip(coords(ring)), strokeColor=BORDER, fillColor=None, strokeWidth=0.6))
    for axis in radar.axes:
        drawing.add(Line(*flip([radar.centre.x, radar.centre.y, axis.x, axis.y]), strokeColor=BORDER, strokeWidth=0.6))
    for index, series in enumerate(radar.series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        drawing.add(
            Polygon(
                flip(coords(series.polygon)),
                strokeColor=colour,
                fillColor=colors.Color(colour.red, colour.green, colour.blue, alpha=0.18),
                strokeWidth=1.4,
            )
        )
        for point in series.points:
            x, y = flip([point.x, point.y])
            drawing.add(Circle(x, y, 2, fillColor=colour, strokeColor=colour))
    for label in radar.labels:
        for line_index, line in enumerate(label.lines):
            x, y = flip([label.x, label.y + line_index * 16])
            drawing.add(String(x, y, line, fontName=FONT, fontSize=6.8, fillColor=colors.black, textAnchor=label.anchor))
    return drawing


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, BORDER),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [("FONTNAME", (0, 0), (-1, 0), BOLD), ("TEXTCOLOR", (0, 0), (-1, 0), MUTED)]
    table.setStyle(TableStyle(style))
    return table


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language.startswith("de") else text


def result_report(
    view: ResultView,
    *,
    language: str,
    heading: str = "",
    subtitle: str = "",
    groups: Sequence[dict[str, Any]] = (),
    group_radar: charts.Radar | None = None,
    gaps: Sequence[str] = (),
) -> bytes:
    """The result on two to three A4 pages: level and patterns, radar and per-dimension
    table, tensions, recommendations; for a campaign also each group's view and the gaps."""
    s = _styles()
    heading = heading or _("Service maturity check")
    story: list[Any] = [_p(heading, s["title"])]
    story.append(_p(subtitle or date_format(timezone.localdate(), "DATE_FORMAT"), s["muted"]))
    story.append(_p(_("Overall level"), s["h2"]))
    story.append(_p(f"{view.level.name} – {view.level.motto}", s["h3"]))
    story.append(_p(view.level.summary, s["body"]))
    story.extend(Paragraph(escape(pattern), s["bullet"], bulletText="•") for pattern in view.level.patterns)
    story.append(_p(_("The six dimensions"), s["h2"]))
    rows = [[_("Dimension"), _("Score (1–3)"), _("Level")]]
    rows += [[_p(row.name, s["body"]), _number(row.score, language), row.level.name] for row in view.dimensions]
    chart = radar_drawing(group_radar or view.radar)
    story.append(
        Table(
            [[chart, _table(rows, [44 * mm, 23 * mm, 21 * mm])]],
            colWidths=[chart.width + 4, None],
            style=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
        )
    )
    if groups:
        story.append(_p(_("The groups' views"), s["h2"]))
        table_rows: list[list[Any]] = [[_("Dimension"), *[group["label"] for group in groups]]]
        for index, row in enumerate(view.dimensions):
            table_rows.append([_p(row.name, s["body"]), *[group["scores"][index] for group in groups]])
        story.append(_table(table_rows, [62 * mm, *[30 * mm for _group in groups]]))
        if gaps:
            story.append(_p(_("Perception gaps"), s["h3"]))
            story.extend(Paragraph(escape(gap), s["bullet"], bulletText="•") for gap in gaps)
    story.append(_p(_("Consistency and tensions"), s["h2"]))
    if view.tensions:
        for tension in view.tensions:
            story.append(KeepTogether([_p(tension.title, s["h3"]), _p(tension.explanation, s["body"])]))
    else:
        story.append(
            _p(_("No tensions: the dimensions are close together and the answers do not contradict each other."), s["body"])
        )
    if view.in_line:
        story.append(_p(_("In line with the overall picture: %(names)s") % {"names": ", ".join(view.in_line)}, s["muted"]))
    story.append(_p(_("Recommendations"), s["h2"]))
    story.append(_p(_("Deepen first: %(name)s") % {"name": view.focus.name}, s["h3"]))
    for recommendation in view.recommendations:
        kind = _("Quick win") if recommendation.horizon == "quick_win" else _("Structural project")
        story.append(
            KeepTogether(
                [
                    _p(f"{recommendation.title} ({kind})", s["h3"]),
                    _p(recommendation.text, s["body"]),
                    _p(
                        _("Owner: %(owner)s · Indicator: %(indicator)s")
                        % {"owner": recommendation.owner, "indicator": recommendation.indicator},
                        s["muted"],
                    ),
                ]
            )
        )
    story.append(Spacer(1, 6))
    return _document(heading, story)


def roadmap_report(*, title: str, starts_on: Any, quarters: Sequence[dict[str, Any]]) -> bytes:
    """The roadmap per quarter: each item with owner, goal, indicator and status."""
    s = _styles()
    story: list[Any] = [
        _p(title, s["title"]),
        _p(_("12-month roadmap from %(date)s") % {"date": date_format(starts_on, "DATE_FORMAT")}, s["muted"]),
    ]
    for quarter in quarters:
        story.append(_p(quarter["label"], s["h2"]))
        if not quarter["items"]:
            story.append(_p(_("Nothing planned."), s["muted"]))
            continue
        rows: list[list[Any]] = [[_("Item"), _("Owner"), _("Measurable indicator"), _("Status")]]
        for item in quarter["items"]:
            cell = [_p(item["title"], s["h3"]), _p(item["goal"], s["body"])]
            rows.append([cell, _p(item["owner"], s["body"]), _p(item["indicator"], s["body"]), _p(item["status"], s["body"])])
        story.append(_table(rows, [70 * mm, 32 * mm, 48 * mm, 24 * mm]))
    return _document(title, story)


def response(content: bytes, filename: str) -> HttpResponse:
    result = HttpResponse(content, content_type="application/pdf")
    result["Content-Disposition"] = f'attachment; filename="{filename}"'
    return result
