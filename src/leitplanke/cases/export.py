"""Export of the filtered case list as CSV or XLSX, both streamed as the rows are read.

Both formats: at most EXPORT_CAP rows (Excel's sheet limit) in the list's order, only what
the user may see, cells that a spreadsheet would read as a formula neutralised with a
leading apostrophe (CWE-1236), and one "case.export" audit event before the first row is
sent. When more cases match than a file holds, the export says so plainly: the file name
("…-first-1000000-of-1234567"), the `X-Export-Rows` / `X-Export-Matching` headers, and in
the XLSX a second sheet explaining what was left out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor
from leitplanke.core import xlsx

from . import list_selectors
from .models import Case

EXPORT_CAP = xlsx.MAX_ROWS - 1  # data rows below the header
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may skip or trim before it looks for a formula (spaces, line
# breaks, zero-width and direction marks), and the full-width forms of the formula
# characters, which some spreadsheets and input methods read as the ASCII ones.
_SKIPPED_BEFORE_FORMULA = (
    " \t\r\n\u00a0\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_FULL_WIDTH_STARTS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
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


def header_labels() -> list[str]:
    """The column titles in the active language (the user's)."""
    return [str(label) for _key, label in COLUMNS]


def csv_stream(rows: Iterable[Case], *, lines_per_chunk: int = 500) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM so that spreadsheet programs detect the encoding), handed
    out in batches (one chunk per row costs the server a write per row). The titles are
    read now, in the request's language: the lines are written later."""
    return _csv_lines(header_labels(), rows, lines_per_chunk)


def _csv_lines(header: list[str], rows: Iterable[Case], lines_per_chunk: int) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    batch: list[str] = []
    for case in rows:
        batch.append(writer.writerow(row_values(case)))
        if len(batch) >= lines_per_chunk:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def left_out_note(*, exported: int, matching: int) -> list[str]:
    """What an export that could not hold every matching case left out, in words."""
    return [
        str(_("This export holds the first %(exported)s of %(matching)s matching cases, in the list's order."))
        % {"exported": f"{exported:,}", "matching": f"{matching:,}"},
        str(_("%(left)s cases were left out. Narrow the filters (for example by received date) and export the rest separately."))
        % {"left": f"{matching - exported:,}"},
    ]


def xlsx_stream(rows: Iterable[Case], *, exported: int, matching: int) -> Iterator[bytes]:
    """The XLSX file in pieces as the rows are read (core/xlsx.py), with a note sheet when
    cases were left out. Titles and notes are read now, in the request's language."""
    notes = (str(_("Left out")), left_out_note(exported=exported, matching=matching)) if matching > exported else None
    return xlsx.stream_workbook(
        sheet=str(_("Cases")),
        header=header_labels(),
        rows=(row_values(case) for case in rows),
        notes=notes,
    )


def export_rows(*, actor: Actor, params: Mapping[str, Any]) -> Iterator[Case]:
    return list_selectors.export_rows(actor=actor, params=params, cap=EXPORT_CAP)
