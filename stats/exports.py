"""The census as a file a French spreadsheet opens as is: CSV (UTF-8 with BOM, `;`) or XLSX."""

import csv
import io

from django.http import HttpResponse
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.styles import Font

from audit.services import audit_record
from stats.selectors import Census, Scope, stats_census

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _table(census: Census) -> list[list]:
    header = f"Indicateur ({census.quarter} : du {census.period.start:%d/%m/%Y} au {census.period.end:%d/%m/%Y})"
    return [[header, *census.columns], *([label, *counts] for label, counts in census.rows)]


def _text(value):
    """A cell a spreadsheet never reads as a formula (jurisdiction names are typed by people)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def census_csv(census: Census) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([_text(cell) for cell in row] for row in _table(census))
    return buffer.getvalue().encode("utf-8-sig")


def census_xlsx(census: Census) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"Recensement {census.quarter}"
    for row in _table(census):
        sheet.append([_text(cell) for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 70
    for column in sheet.iter_cols(min_col=2, max_col=sheet.max_column, max_row=1):
        sheet.column_dimensions[column[0].column_letter].width = max(18, len(str(column[0].value)) + 2)
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def census_download(*, user, scope: Scope, year: int, quarter: int, file_format: str) -> HttpResponse:
    """The download for the page and the API, journaled; its name says the quarter and the scope, nothing more."""
    census = stats_census(scope=scope, year=year, quarter=quarter)
    audit_record(actor=user, action="stats.census", detail=f"{census.quarter} {file_format} {census.scope}"[:200])
    content = census_csv(census) if file_format == "csv" else census_xlsx(census)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    filename = f"recensement-TGD-{census.quarter}-{slugify(census.scope)}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
