"""Reading member lists (CSV or XLSX with a header row) and writing exports (CSV, JSON, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
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
    return [{k: v for k, v in zip(keys, row, strict=False) if k} for row in raw_rows[1:]]


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps phone numbers typed as numbers as floats
    return str(value)


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def write_csv(columns: list[str], rows: Iterable[list], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_plain(v) for v in row])
        count += 1
    return count


def write_json(columns: list[str], rows: Iterable[list], out: IO[str]) -> int:
    """A JSON array of objects, written as it is read so a large export stays in bounded memory."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps(dict(zip(columns, map(_plain, row), strict=True)),
                                                              ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def write_xlsx(sheets: Iterable[tuple[str, list[str], Iterable[list]]], out: IO[bytes]) -> None:
    """One sheet per kind, in openpyxl's write-only mode (rows streamed, not held)."""
    from openpyxl import Workbook  # heavy: loaded only when a spreadsheet is written

    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append([_plain(v) for v in row])
    book.save(out)
