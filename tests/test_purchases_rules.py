"""The rules issue 14 item 11 left for joint purchases, in every language: an amount the bot asks a member
to pay is one they can pay and type back; every quantity shown carries the purchase's unit; how to pay
fits a till number and a name; the saving of pooled buying is counted one way by the SMS and the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import i18n, sms
from bot.scheduler import run_due
from storage import purchases as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member
from storage.purchases import PurchasePayment
from tests.conftest import outbox
from tests.test_purchases_typing import LANGS, MEMBER, OFFICER, START, kw, send, world  # noqa: F401 (fixture)

DEBES = re.compile(r"\bdebes\b")  # a tin of grain: a unit no message's own words contain

DEADLINE = START + timedelta(days=12)


def seed_at(db, cluster, world, price_minor: int) -> int:  # noqa: F811
    """Maize seed by the kg, parts allowed, at `price_minor` a kg, offered to the world's members."""
    with session_scope(db) as s:
        p = store.create_purchase(s, s.get(Cluster, cluster.id), item="Seed", unit="kg", units="kg",
                                  whole_units=False, unit_price=price_minor, minimum=1_000,
                                  deadline=DEADLINE, now=START, pay_to="M-Pesa 0712 345 678")
        store.offer(s, p, [s.get(Member, i) for i in world["members"].values()], START)
        return p.id


# An amount asked is an amount a member can pay --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_an_amount_due_is_in_whole_shillings_and_paid_back_as_written(db, settings, cluster, world, lang):  # noqa: F811
    pid = seed_at(db, cluster, world, 150_100)  # TSh 1,501 a kg: 7.5 kg is TSh 11,257.50 on paper
    reply = send(db, settings, lang, f"{kw('BUY', lang)} {pid} 7,5")[0]
    assert "11" in reply and not re.search(r"11.?25[78][.,]50", reply), reply
    run_due(db, settings, DEADLINE + timedelta(seconds=30))
    [notice] = [m.text for m in outbox(db, MEMBER[lang]) if f"{kw('PAID', lang)} {pid} " in m.text]
    digits = notice.split(f"{kw('PAID', lang)} {pid} ", 1)[1].split()[0]
    assert digits == "11258", notice  # rounded half up to the shilling
    send(db, settings, lang, f"{kw('PAID', lang)} {pid} {digits} QK{lang}", now=DEADLINE + timedelta(hours=1))
    with session_scope(db) as s:
        assert [p.amount for p in s.exec(select(PurchasePayment))] == [1_125_800]
        member = s.get(Member, world["members"][lang])
        assert store.account(s, store.get_purchase(s, s.get(Cluster, cluster.id), pid), member).due == 1_125_800


# Every quantity shown carries the purchase's unit --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_quantity_a_member_is_shown_carries_the_unit(db, settings, cluster, world, lang):  # noqa: F811
    with session_scope(db) as s:
        p = store.create_purchase(s, s.get(Cluster, cluster.id), item="Beans", unit="debe", units="debes",
                                  whole_units=False, unit_price=2_000_000, minimum=5_000,
                                  deadline=DEADLINE - timedelta(hours=1), now=START, pay_to="M-Pesa 0712 345 678")
        store.offer(s, p, [s.get(Member, i) for i in world["members"].values()], START)
        pid = p.id  # closes first, so BUY lists it first
    buy = kw("BUY", lang)
    pledged = send(db, settings, lang, f"{buy} {pid} 7,5")[0]
    assert len(DEBES.findall(pledged)) == 2, pledged  # the member's 7.5 and the group's 7.5 of 5
    listing, shown = send(db, settings, lang, buy)[0], send(db, settings, lang, f"{buy} {pid}")[0]
    assert DEBES.search(listing) and DEBES.search(shown), (listing, shown)
    run_due(db, settings, DEADLINE + timedelta(seconds=30))
    [closing] = [m.text for m in outbox(db, MEMBER[lang]) if "Beans" in m.text and f" {pid} " in m.text]
    assert DEBES.search(closing), closing


@pytest.mark.parametrize("lang", LANGS)
def test_newbuy_says_the_unit_of_the_limits_it_refuses(db, settings, world, lang):  # noqa: F811
    for answer in (kw("NEWBUY", lang), "Beans", "debe/debes", "2", "20000", "0", "Kilimo Ltd", "100"):
        send(db, settings, lang, answer, who=OFFICER)
    below = send(db, settings, lang, "50", who=OFFICER)[0]
    assert DEBES.search(below) and "100" in below, below
    send(db, settings, lang, "200", who=OFFICER)
    above = send(db, settings, lang, "300", who=OFFICER)[0]
    assert DEBES.search(above) and "200" in above, above


# What pooled buying saved: one rule for the SMS and the CLI -----------------------------------------------------


def bags(db, cluster, world, *, minimum: int, pledges: dict[str, int], cancel: bool = False) -> int:  # noqa: F811
    """Coffee by the bag at TSh 45,000, usually TSh 52,000, with these pledges (language: bags)."""
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        p = store.create_purchase(s, c, item="Coffee", unit="bag", units="bags", unit_price=4_500_000,
                                  individual_price=5_200_000, minimum=minimum * 1000, deadline=DEADLINE, now=START)
        store.offer(s, p, [s.get(Member, i) for i in world["members"].values()], START)
        for lang, n in pledges.items():
            store.pledge(s, p.id, s.get(Member, world["members"][lang]), n * 1000, START)
        if cancel:
            store.advance(s, p, "cancelled", None, START)
        return p.id


@pytest.mark.parametrize("lang", LANGS)
def test_the_sms_and_the_cli_count_the_same_saving(db, settings, cluster, world, cli_run, lang):  # noqa: F811
    bags(db, cluster, world, minimum=2, pledges={"en": 3, "sw": 2})  # open, minimum met: 5 x TSh 7,000
    bags(db, cluster, world, minimum=100, pledges={"fr": 1})  # open, short of its minimum: nothing yet
    bags(db, cluster, world, minimum=1, pledges={"am": 2}, cancel=True)  # called off: nothing
    overview = send(db, settings, lang, kw("PURCHASE", lang), who=OFFICER)[0]
    saved = sms.outgoing(i18n.format_money(3_500_000, "TZS", lang, "TZ"))
    assert saved in overview and "2" in overview.split(saved, 1)[1], overview
    code, out, err = cli_run("purchase", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == "saved 35000.00 TZS for 2 members"
    per_purchase = [float(line.split("saved ")[1].split()[0]) for line in lines[:-1]]
    assert per_purchase == [0.0, 0.0, 35000.0, 0.0, 0.0]  # the world's two purchases have no pledges


# How to pay holds a till number and a name ----------------------------------------------------------------------

TILL = "Lipa na M-Pesa till 5123456 Kibosho Coffee Growers"  # 50 characters, the column's length


@pytest.mark.parametrize("lang", LANGS)
def test_newbuy_takes_a_till_number_and_a_name_and_the_closing_notice_carries_it(db, settings, cluster, world, lang):  # noqa: F811
    answers = [kw("NEWBUY", lang), "Beans", "debe/debes", "1", "20000", "0", "Kilimo Ltd", "1", "0", "0",
               "14/03/2099 17:00"]
    for answer in answers:
        send(db, settings, lang, answer, who=OFFICER)
    assert len(send(db, settings, lang, TILL + "x", who=OFFICER)) == 1  # one too long: asked again
    send(db, settings, lang, TILL, who=OFFICER)
    summary = send(db, settings, lang, "all", who=OFFICER)
    assert any(TILL in reply for reply in summary), summary
    send(db, settings, lang, "1", who=OFFICER)
    with session_scope(db) as s:
        [p] = [p for p in store.cluster_purchases(s, s.get(Cluster, cluster.id)) if p.item == "Beans"]
        assert p.pay_to == TILL
        store.pledge(s, p.id, s.get(Member, world["members"][lang]), 2_000, START)
    run_due(db, settings, datetime(2099, 3, 14, 14, 0, 30, tzinfo=UTC))
    [closing] = [m.text for m in outbox(db, MEMBER[lang]) if "Beans" in m.text and kw("PAID", lang) in m.text]
    assert TILL in closing and DEBES.search(closing), closing
