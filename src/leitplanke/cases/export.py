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

from . import list_selectors
from .models import Case

EXPORT_CAP = 100_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may skip or trim before it looks for a formula (spaces, line
# breaks, zero-width and direction marks), and the full-width forms of the formula
# characters, which some spreadsheets and input methods read as the ASCII ones.
_SKIPPED_BEFORE_FORMULA = (
    " \t\r\n\u00a0\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_FULL_WIDTH_STARTS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
COLUMNS = [
    ("reference", "Reference"),
    ("subject", "Subject"),
    ("case_type", "Case type"),
    ("status", "Status"),
    ("status_kind", "Status kind"),
    ("priority", "Priority"),
    ("channel", "Channel"),
    ("received_at", "Received at"),
    ("customer", "Customer"),
    ("customer_number", "Customer number"),
    ("product", "Product"),
    ("category", "Category"),
    ("team", "Team"),
    ("responsible", "Responsible"),
    ("updated_at", "Updated at"),
    ("closed_at", "Closed at"),
]


def neutralise(value: Any) -> Any:
    """Text that starts like a formula gets a leading apostrophe; numbers stay numbers.
    "Starts" means the first visible character: " =1+1" and "\u200b=1+1" are caught too,
    as are the full-width "＝ ＋ － ＠"."""
    if not isinstance(value, str):
        return value
    visible = value.lstrip(_SKIPPED_BEFORE_FORMULA)
    if value.startswith(FORMULA_STARTS) or visible.startswith(FORMULA_STARTS + _FULL_WIDTH_STARTS):
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


def csv_stream(rows: Iterable[Case]) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM so that spreadsheet programs detect the encoding)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([label for _key, label in COLUMNS])
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
        sheet = workbook.add_worksheet("Cases")
        bold = workbook.add_format({"bold": True})
        for col, (_key, label) in enumerate(COLUMNS):
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
