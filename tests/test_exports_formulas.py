"""Exports never hand a spreadsheet a formula: text a member typed that a spreadsheet would run
(`=HYPERLINK(...)`, `+cmd`, `-2+3`, `@SUM(A1)`) is neutralised in CSV (an apostrophe before it) and in
XLSX (a text cell), in the CLI's exports and the dashboard's downloads; JSON is data and keeps the text
exactly; phone numbers and negative amounts are left as they are."""

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot import cli, tables
from storage.db import session_scope
from storage.members import Member
from tests.conftest import say
from tests.test_dashboard import login

HYPERLINK = '=HYPERLINK("http://x","Pending")'
HOSTILE = [HYPERLINK, "+cmd", "@SUM(A1)", "-2+3 Moshi"]  # name, business, sector, location
RAW = ["-2+3", "@SUM(A1)", "=1+1", "+cmd"]  # sent as messages: the messages kind carries them
FAC = "+255712000009"
SMS_PHONE, TELEGRAM_CHAT = "+255712000006", "424242"
JOINS = {"en": "JOIN", "sw": "JIUNGE", "fr": "ADHÉRER", "am": "ተቀላቀል"}


def _register(db, settings, address: str, channel: str, join: str) -> None:
    """The real registration: every free-text answer is hostile, the choices are the first ones."""
    say(db, settings, address, join, channel=channel)
    for answer in [*HOSTILE, "1", "1", "1"]:
        say(db, settings, address, answer, channel=channel)
    for text in RAW:
        say(db, settings, address, text, channel=channel)


@pytest.fixture(params=sorted(JOINS))
def registered(request, db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator", name="Faith")
    _register(db, settings, SMS_PHONE, "sms", JOINS[request.param])
    _register(db, settings, TELEGRAM_CHAT, "telegram", JOINS[request.param])
    with session_scope(db) as s:
        names = s.exec(select(Member.name).where(Member.name == HYPERLINK)).all()
    assert len(names) == 2, "both registrations went through"
    return cluster


def _check_csv(text: str, kind: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows[1:] for c in row]
    assert kind != "members" or SMS_PHONE in cells, "the phone number is exported as it is"
    found = [c for c in cells if c.removeprefix("'") in {*HOSTILE, *RAW}]
    assert found, "the hostile text is in the export"
    assert all(c.startswith("'") for c in found), [c for c in found if not c.startswith("'")]


def _check_xlsx(content: bytes) -> None:
    book = load_workbook(io.BytesIO(content))  # not read-only: the cells' types are what matters
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, str) and c.value in {*HOSTILE, *RAW}:
                    assert c.data_type == "s", (sheet.title, c.coordinate, c.value, c.data_type)
                    seen += 1
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
    assert seen >= len(HOSTILE), "the exact texts are kept, as text cells"
    phones = [c.value for c in book["members"]["C"]]
    assert SMS_PHONE in phones


def test_cli_exports_neutralise_formulas(registered, cli_run, settings, monkeypatch, capsysbinary):
    for kind in ("members", "messages"):
        code, out, err = cli_run("export", kind, "--format", "csv")
        assert code == 0, err
        _check_csv(out, kind)
        code, out, err = cli_run("export", kind, "--format", "json")
        records = json.loads(out)
        texts = {v for r in records for v in r.values() if isinstance(v, str)}
        assert set(HOSTILE if kind == "members" else RAW) <= texts, "JSON keeps exactly what was written"
    capsysbinary.readouterr()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli.main(["export", "all", "--format", "xlsx"]) == 0
    _check_xlsx(capsysbinary.readouterr().out)


def test_dashboard_downloads_neutralise_formulas(registered, web, db):  # noqa: F811
    login(web, db, FAC)
    for kind in ("members", "messages"):
        _check_csv(web.get(f"/dashboard/c/MOSHI/export/{kind}.csv").text, kind)
        records = web.get(f"/dashboard/c/MOSHI/export/{kind}.json").json()
        assert HYPERLINK in {v for r in records for v in r.values()} or kind == "messages"
    _check_xlsx(web.get("/dashboard/c/MOSHI/export/all.xlsx").content)


@pytest.mark.parametrize("value", ["+255712000006", "-20000", "-20,000.50", "+5", "20 000", "0712000006",
                                   "2025-03-10T10:00:00+03:00", "Asha - tailor", "a=b", "MOSHI-004"])
def test_numbers_dates_and_ordinary_text_are_not_touched(value):
    out = io.StringIO()
    tables.write_csv(["v"], [[value], [-5000]], out)
    assert list(csv.reader(io.StringIO(out.getvalue())))[1:] == [[value], ["-5000"]]


@pytest.mark.parametrize("value", [HYPERLINK, "+cmd", "-2+3", "@SUM(A1)", "=1+1", " =1+1", "\t=1+1", "\n=1+1",
                                   "＝1+1", "-", "+", "+ 5", "-2-3", "+255 712-000-006"])
def test_every_formula_lead_is_guarded_and_read_back(value, tmp_path):
    out = io.StringIO()
    tables.write_csv(["phone", "name"], [["+255712000006", value]], out)
    cell = list(csv.reader(io.StringIO(out.getvalue())))[1][1]
    assert cell == "'" + value
    path = tmp_path / "members.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert tables.read_member_table(path) == [{"phone": "+255712000006", "name": value}]


def test_every_export_is_written_by_the_guarded_writers():
    """CLI commands and dashboard downloads (poll results included) write tables only through bot.tables."""
    root = Path(tables.__file__).parent
    writers = ("csv.writer", "DictWriter", "Workbook(")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if p.name != "tables.py"
                 and any(w in p.read_text(encoding="utf-8") for w in writers)]
    assert offenders == []
