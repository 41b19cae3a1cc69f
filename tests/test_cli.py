"""The clusterbot command: clusters, facilitators, member import (CSV and XLSX) and export, chat."""

import csv
import io
import json

from openpyxl import Workbook
from sqlmodel import select

from storage.db import session_scope
from storage.members import Member


def test_cluster_create_and_facilitator_add(cli_run, db):
    assert cli_run("cluster", "create", "Moshi Tailors", "--code", "moshi")[0] == 0
    code, _, err = cli_run("cluster", "create", "Other", "--code", "MOSHI")
    assert code == 2 and "already used" in err
    code, out, _ = cli_run("facilitator", "add", "0712 000 009", "--role", "treasurer")
    assert code == 0 and "+255712000009" in out
    with session_scope(db) as s:
        m = s.exec(select(Member).where(Member.phone == "+255712000009")).one()
        assert (m.admin_role, m.status) == ("treasurer", "active")


MEMBER_CSV = """Jina;Phone Number;Business;Sector;Location;Gender;Role;Language
Asha Juma;0712 000 001;Asha Designs;tailoring;Moshi;F;firm;sw
Baraka Mushi;+255712000002;Mushi Dairy;dairy;Hai;male;farm;en
No Phone;12;Shop;retail;Moshi;F;firm;en
Asha Twice;0712000001;Dup;tailoring;Moshi;F;firm;sw
Bad Gender;0712000005;Shop;retail;Moshi;maybe;firm;en
"""


def test_import_members_csv_reports_rejected_rows_and_stores_none_of_them(cli_run, db, tmp_path):
    cli_run("cluster", "create", "Moshi Tailors", "--code", "MOSHI")
    path = tmp_path / "members.csv"
    path.write_text(MEMBER_CSV, encoding="utf-8")
    code, out, _ = cli_run("import", "members", str(path))
    assert code == 0
    assert "imported 2 members" in out and "3 rows rejected" in out
    assert "row 4: phone '12' is not a valid number" in out
    assert "row 5: phone +255712000001 appears twice" in out
    assert "row 6: gender 'maybe'" in out
    with session_scope(db) as s:
        members = {m.phone: m for m in s.exec(select(Member))}
    assert set(members) == {"+255712000001", "+255712000002"}
    assert members["+255712000001"].language == "sw" and members["+255712000001"].gender == "female"
    code, out, _ = cli_run("import", "members", str(path))
    assert "imported 0 members" in out and "already a member" in out


def test_import_members_xlsx_with_numeric_phone_cells(cli_run, db, tmp_path):
    cli_run("cluster", "create", "Moshi Tailors", "--code", "MOSHI")
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Gender", "Phone", "Location"])
    sheet.append(["Neema Kimaro", "female", 255712000003, "Moshi"])
    sheet.append(["Juma Said", "M", "0712000004", "Hai"])
    path = tmp_path / "members.xlsx"
    book.save(path)
    code, out, _ = cli_run("import", "members", str(path))
    assert code == 0 and "imported 2 members" in out, out


def test_export_members_csv_and_json_parse_back(cli_run, tmp_path):
    cli_run("cluster", "create", "Moshi Tailors", "--code", "MOSHI")
    path = tmp_path / "m.csv"
    path.write_text(MEMBER_CSV, encoding="utf-8")
    cli_run("import", "members", str(path))
    _, out, _ = cli_run("export", "members", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["Asha Juma", "Baraka Mushi"]
    assert rows[0]["joined_at"].endswith("+03:00")
    _, out, _ = cli_run("export", "members", "--format", "json")
    assert [r["phone"] for r in json.loads(out)] == ["+255712000001", "+255712000002"]
    code, _, err = cli_run("export", "nonsense")
    assert code == 2 and "unknown kind" in err


def test_chat_talks_as_a_phone(cli_run):
    cli_run("cluster", "create", "Moshi Tailors", "--code", "MOSHI")
    code, out, _ = cli_run("chat", "--from", "0712000001", stdin="JIUNGE\nAsha Juma\n\n")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("< ")]
    assert len(lines) == 2 and "Moshi Tailors" in lines[0]


def test_commands_need_a_cluster_when_several_exist(cli_run):
    cli_run("cluster", "create", "Moshi Tailors", "--code", "MOSHI")
    cli_run("cluster", "create", "Dakar Fish", "--code", "DAKAR", "--region", "SN", "--currency", "XOF")
    code, _, err = cli_run("facilitator", "add", "0712000009")
    assert code == 2 and "--cluster" in err
    assert cli_run("facilitator", "add", "771234567", "--cluster", "dakar")[0] == 0


def test_chat_ussd_dials_answers_until_end_and_prints_the_receipt_sms(cli_run, cluster, add_member):
    add_member("+255712000001")
    add_member("+255712000008", admin_role="treasurer")
    _, out, _ = cli_run("chat", "--ussd", "--from", "0712000001", stdin="\n")
    assert not out.startswith(("CON", "END")) and "Report a deposit" in out
    deposit = next(line.split(" ")[0] for line in out.splitlines() if "Report a deposit" in line)
    code, out, err = cli_run("chat", "--ussd", "--from", "0712000001",
                             stdin=f"{deposit}\n5000\nQK12AB\n1\nagain\n1\n\n")
    assert code == 0 and "*384#" in err
    assert "CON " not in out and "END " not in out and "> " not in out  # piped in: no prompt
    assert "How much" in out and "QK12AB" in out
    first, second = out.split("(session ended)\n", 1)
    assert first.rstrip("\n").endswith("Deposit of TSh5,000 noted. The treasurer will confirm it and tell you.")
    assert second.startswith("< SMS: Deposit of TSh5,000 noted.")  # the receipt, queued by SMS
    assert "Report a deposit" in second  # dialled again: the main menu
    assert second.rstrip("\n").endswith("Your savings: TSh0. No loan.\n(session ended)")


def test_chat_ussd_leaves_on_an_empty_line_or_end_of_input_mid_session(cli_run, cluster, add_member):
    add_member("+255712000001")
    for stdin in ("", "\n", "42\n", "42\n\n1\n"):
        code, out, _ = cli_run("chat", "--ussd", "--from", "0712000001", stdin=stdin)
        assert code == 0 and "(session ended)" not in out and out.startswith("Moshi Tailors")
        assert ("Choose a number from 1 to" in out) == stdin.startswith("42")


def test_chat_ussd_uses_the_configured_service_code_and_refuses_a_bad_phone(cli_run, cluster, monkeypatch):
    monkeypatch.setenv("USSD_SERVICE_CODE", "*384*123#")
    code, out, err = cli_run("chat", "--ussd", "--from", "0712000001", stdin="")
    assert code == 0 and "*384*123#" in err and "Register" in out
    code, _, err = cli_run("chat", "--ussd", "--from", "12", stdin="")
    assert code == 2 and "not a valid phone number" in err
