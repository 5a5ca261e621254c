"""Export of the filtered case list as CSV (streamed) or XLSX (constant memory).

Both formats: at most EXPORT_CAP rows in the list's order, only what the user may see,
cells that a spreadsheet would read as a formula neutralised with a leading apostrophe
(CWE-1236), and one "case.export" audit event before the first row is sent.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import list_selectors
from .models import Case

EXPORT_CAP = 100_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    ("reference", _("Reference")),
    ("subject", _("Subject")),
    ("case_type", _("Case type")),
    ("status", _("Status")),
    ("status_kind", _("Status kind")),
    ("priority", _("Priority")),
    ("channel", _("Channel")),
    ("received_at", _("Received at")),
    ("customer", _("Customer")),
    ("customer_number", _("Customer number")),
    ("product", _("Product")),
    ("category", _("Category")),
    ("team", _("Team")),
    ("responsible", _("Responsible")),
    ("updated_at", _("Updated at")),
    ("closed_at", _("Closed at")),
]


def neutralise(value: Any) -> Any:
    """Text that starts like a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def row_values(case: Case) -> list[Any]:
    return [
        neutralise(value)
        for value in (
            case.reference,
            case.subject,
            case.case_type.label if case.case_type_id else "",
            case.status,
            case.status_kind,
            case.priority,
            case.channel,
            _when(case.received_at),
            case.customer.display_name if case.customer else "",
            case.customer.customer_number if case.customer else "",
            case.product.label if case.product else "",
            case.category.label if case.category else "",
            case.team.name if case.team else "",
            case.responsible_user.full_name if case.responsible_user else "",
            _when(case.updated_at),
            _when(case.closed_at),
        )
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def header_labels() -> list[str]:
    """The column titles in the active language (the user's)."""
    return [str(label) for _key, label in COLUMNS]


def csv_stream(rows: Iterable[Case]) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM so that spreadsheet programs detect the encoding). The
    titles are read now, in the request's language: the lines are written later."""
    return _csv_lines(header_labels(), rows)


def _csv_lines(header: list[str], rows: Iterable[Case]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for case in rows:
        yield writer.writerow(row_values(case))


def xlsx_file(rows: Iterable[Case]) -> Any:
    """Writes an XLSX into an anonymous temporary file (constant memory) and returns it open."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="leitplanke-export-")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        sheet = workbook.add_worksheet(str(_("Cases"))[:31])
        bold = workbook.add_format({"bold": True})
        for col, label in enumerate(header_labels()):
            sheet.write_string(0, col, label, bold)
        for row_index, case in enumerate(rows, start=1):
            for col, value in enumerate(row_values(case)):
                if isinstance(value, int):
                    sheet.write_number(row_index, col, value)
                else:
                    sheet.write_string(row_index, col, str(value))
        workbook.close()
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    return stream


def export_rows(*, actor: Any, params: Mapping[str, Any]) -> Iterator[Case]:
    return list_selectors.export_rows(actor=actor, params=params, cap=EXPORT_CAP)
