"""Privacy: one member's data exported, a member forgotten without changing totals, masked logs, backups."""


import json
import logging
import sqlite3
from datetime import timedelta

from sqlmodel import func, select

from bot.scheduler import run_due
from storage.db import session_scope, utcnow
from storage.members import Identity, Member
from storage.messages import InboundMessage, OutboundMessage
from tests.conftest import with_settings


def _register(phone, add_member):
    add_member("+255712000009", admin_role="facilitator", name="Fatma Facilitator")
    member = add_member("+255712000001", name="Asha Juma", business="Asha Designs")
    phone("+255712000001").last("PROFILE")
    return member


def test_member_export_holds_all_their_rows(cli_run, phone, add_member):
    member = _register(phone, add_member)
    code, out, _ = cli_run("member", "export", member.number)
    assert code == 0
    data = json.loads(out)
    assert data["members"][0]["name"] == "Asha Juma"
    assert any(r["address"] == "+255712000001" for r in data["identities"])
    assert any(r["text"] == "PROFILE" for r in data["inbound_messages"])
    assert all(r["member_id"] == member.id for r in data["inbound_messages"])


def test_forget_erases_personal_data_and_needs_confirmation(cli_run, phone, add_member, db):
    member = _register(phone, add_member)
    code, _, err = cli_run("member", "forget", "+255712000001")
    assert code == 2 and "--yes" in err
    assert cli_run("member", "forget", "+255712000001", "--yes")[0] == 0
    with session_scope(db) as s:
        m = s.get(Member, member.id)
        assert (m.name, m.phone, m.status) == ("(forgotten)", "", "left")
        assert s.exec(select(Identity).where(Identity.member_id == member.id)).all() == []
        texts = s.exec(select(InboundMessage.text).where(InboundMessage.member_id == member.id)).all()
        assert texts and set(texts) == {""}
        assert s.exec(select(func.count()).select_from(Member)).one() == 2
    # the phone is free again: writing now is a stranger's message
    assert "JOIN" in phone("+255712000001").last("PROFILE")


def test_logs_mask_phone_numbers_and_bodies(phone, add_member, caplog):
    add_member("+255712000001")
    with caplog.at_level(logging.DEBUG):
        phone("+255712000001").last("SECRETWORD please")
    text = caplog.text
    assert "+255712000001" not in text and "SECRETWORD" not in text
    assert "+2557******01" in text


def test_backup_is_a_consistent_copy(cli_run, settings, add_member, tmp_path, backend):
    if backend != "sqlite":
        code, _, err = cli_run("backup", str(tmp_path / "b.db"))
        assert code == 2 and "pg_dump" in err
        return
    add_member("+255712000001")
    target = tmp_path / "backup.db"
    assert cli_run("backup", str(target))[0] == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("select count(*) from members").fetchone()[0] == 1
    assert cli_run("backup", str(target))[0] == 2  # never overwrites


def test_message_texts_are_erased_after_the_retention_period(db, settings, phone, add_member):
    settings = with_settings(settings, retention_days=365)
    add_member("+255712000001")
    phone("+255712000001").last("PROFILE")
    run_due(db, settings, utcnow() + timedelta(days=364))
    with session_scope(db) as s:
        assert s.exec(select(InboundMessage.text)).all() == ["PROFILE"]
    run_due(db, settings, utcnow() + timedelta(days=366))
    with session_scope(db) as s:
        assert s.exec(select(InboundMessage.text)).all() == [""]
        assert set(s.exec(select(OutboundMessage.text)).all()) == {""}
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == 1  # the record stays
