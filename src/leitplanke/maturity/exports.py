"""CSV export of a roadmap. Cells that a spreadsheet would read as a formula are
neutralised with a leading apostrophe (the same rule as the case export, CWE-1236)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from leitplanke.cases.export import neutralise


def roadmap_csv(items: Iterable[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Quarter"),
            _("Kind"),
            _("Dimension"),
            _("Title"),
            _("Goal"),
            _("Owner"),
            _("Measurable indicator"),
            _("Live figure"),
            _("Value at start"),
            _("Value now"),
            _("Status"),
        ]
    )
    for item in items:
        writer.writerow(
            [
                neutralise(value)
                for value in (
                    item.quarter,
                    item.get_horizon_display(),
                    item.dimension_name,
                    item.title,
                    item.goal,
                    item.owner,
                    item.indicator,
                    item.get_kpi_display() if item.kpi else "",
                    item.kpi_then or "",
                    item.kpi_now or "",
                    item.get_status_display(),
                )
            ]
        )
    return buffer.getvalue()


def roadmap_csv_response(roadmap: Any, items: Iterable[Any]) -> HttpResponse:
    # A byte-order mark, so that spreadsheet programs read the umlauts as UTF-8.
    response = HttpResponse("\ufeff" + roadmap_csv(items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roadmap-{roadmap.pk}.csv"'
    return response
