"""Reading member lists (CSV or XLSX with a header row) and writing exports (CSV, JSON, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from storage.members import IMPORT_COLUMNS


def _column_key(header: str) -> str | None:
    folded = " ".join(str(header or "").strip().lower().replace("_", " ").split())
    for key, names in IMPORT_COLUMNS.items():
        if folded in names:
            return key
    return None


def read_member_table(path: Path) -> list[dict[str, str]]:
    """Rows keyed by our column names, whatever the file's column order or language of its headers."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook  # heavy: loaded only when a spreadsheet is read

        sheet = load_workbook(path, read_only=True, data_only=True).active
        raw_rows = [["" if c is None else _cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    else:
        text = path.read_text(encoding="utf-8-sig")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        raw_rows = list(csv.reader(io.StringIO(text), dialect))
    if not raw_rows:
        return []
    keys = [_column_key(h) for h in raw_rows[0]]
    if "phone" not in keys or "name" not in keys:
        raise ValueError("the first row must name the columns, including phone and name")
    return [{k: _unguarded(v) for k, v in zip(keys, row, strict=False) if k} for row in raw_rows[1:]]


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps phone numbers typed as numbers as floats
    return str(value)


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


# A spreadsheet reads a cell that starts with one of these as a formula (`=HYPERLINK(...)`, `+cmd`, `-2+3`,
# `@SUM(A1)`; the full-width forms in some locales; a tab or line break before one of them). A plain number
# written with a sign (a phone number +255712000006, an amount -20000) is a number, never a formula.
_FORMULA_LEAD = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,]*")
GUARD = "'"


def formula_like(value) -> bool:
    """Whether a spreadsheet would take this exported text for a formula."""
    if not isinstance(value, str) or not value:
        return False
    if value[0] in "\t\r\n":
        return True
    text = value.lstrip()
    return text[:1] in _FORMULA_LEAD and not _PLAIN_NUMBER.fullmatch(text.rstrip())


def _guarded(value):
    """CSV has no cell types, so text a spreadsheet would run is written after an apostrophe (OWASP's
    advice); the member's own text is otherwise kept, and read back without it (`_unguarded`)."""
    value = _plain(value)
    return GUARD + value if formula_like(value) else value


def _unguarded(value: str) -> str:
    return value[1:] if value.startswith(GUARD) and formula_like(value[1:]) else value


def write_csv(columns: list[str], rows: Iterable[list], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_guarded(v) for v in row])
        count += 1
    return count


def write_json(columns: list[str], rows: Iterable[list], out: IO[str]) -> int:
    """A JSON array of objects, written as it is read so a large export stays in bounded memory.

    JSON is data for programs, which no spreadsheet evaluates: text is kept exactly as members wrote it."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps(dict(zip(columns, map(_plain, row), strict=True)),
                                                              ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def write_xlsx(sheets: Iterable[tuple[str, list[str], Iterable[list]]], out: IO[bytes]) -> None:
    """One sheet per kind, in openpyxl's write-only mode (rows streamed, not held).

    openpyxl stores any text starting with `=` as a formula; formula-like text is written as a text cell
    instead (with Excel's quote prefix, so editing the cell keeps it text): the exact text, never run."""
    from openpyxl import Workbook  # heavy: loaded only when a spreadsheet is written
    from openpyxl.cell import WriteOnlyCell  # heavy: as above

    def cell(sheet, value):
        value = _plain(value)
        if not formula_like(value):
            return value
        text = WriteOnlyCell(sheet, value)
        text.data_type = "s"
        text.quotePrefix = True
        return text

    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append([cell(sheet, v) for v in row])
    book.save(out)
