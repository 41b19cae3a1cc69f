"""Every money command reads amounts one way (issue 14 items 1, 2 and 4), in en/sw/fr/am, by SMS and Telegram.

Rules under test:
- any amount the bot writes (format_money, in every language, currency and country the bot serves, as
  SMS delivers it too) reads back whole in every command that takes one: SAVE, REPAY, DEP, WITHDRAW,
  LOAN (with its months before or after it), PAID, RECEIVED, NEWBUY's prices and the CLI;
- nothing a person writes is silently truncated: `20 000 OM55`, `17 166`, `5 000 Z2` are whole;
- ambiguous (`1,00`), fractional where the currency is paid in whole units (`12,5`, `0.5`) and absurd
  amounts (over the ceiling) are refused with a reply saying what was expected, and nothing is recorded;
- the words around a loan's figures are read or refused precisely: a loan written with its figures and
  words the bot does not know gets the loan's usage, not "write the amount in figures".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot import i18n, parse, router, sms
from bot.parse import ParseError
from storage import purchases as pstore
from storage import savings as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Identity, Member
from storage.messages import Conversation
from storage.purchases import PurchasePayment
from storage.savings import Entry, Loan, Request
from tests.conftest import one_reply, say, speaker

LANGS = ("en", "sw", "fr", "am")
CHANNELS = ("sms", "telegram")
TREASURER, MEMBER = "+255712000009", "+255712000001"
TZS = 100
NOW = datetime(2099, 3, 2, 7, 0, tzinfo=UTC)
# The currencies of the countries the bot serves, with their country, and a few it may meet.
COUNTRIES = [("TZS", "TZ"), ("KES", "KE"), ("UGX", "UG"), ("RWF", "RW"), ("BIF", "BI"), ("XOF", "SN"),
             ("XAF", "CM"), ("ETB", "ET"), ("USD", "US"), ("EUR", "")]
WHOLE = (1, 5, 999, 1_000, 17_166, 20_000, 49_999)  # whole currency units, all under every default ceiling


def kw(command: str, lang: str) -> str:
    return router.keyword(command, lang)


def written(minor: int, currency: str, lang: str, region: str) -> set[str]:
    """An amount as the bot writes it, and as an SMS delivers it (GSM-7 normalised)."""
    text = i18n.format_money(minor, currency, lang, region)
    return {text, sms.outgoing(text)}


def amounts(currency: str) -> list[int]:
    """Minor units the bot may write: whole amounts, and amounts with cents where cents are paid."""
    scale = 10 ** i18n.minor_digits(currency)
    found = [units * scale for units in WHOLE]
    if not parse.whole_units(currency):
        found += [1_250 * scale + 50, 7 * scale + 5]
    return found


# ---------------------------------------------------------------- the parser, every currency and language


@pytest.mark.parametrize("currency, region", COUNTRIES)
@pytest.mark.parametrize("lang", LANGS)
def test_every_amount_the_bot_writes_reads_back_in_every_reader(currency, region, lang):
    for minor in amounts(currency):
        for text in written(minor, currency, lang, region) | written(minor, currency, lang, "TZ"):
            assert parse.amount(text, currency) == minor, text
            assert parse.amount_and_reference(f"{text} QK7", currency) == (minor, "QK7"), text
            for months_then_money in (f"miezi 6 {text}", f"6 months {text}", f"mois 6 {text}", f"6 ወር {text}"):
                assert parse.amount_and_months(months_then_money, currency) == (minor, 6), months_then_money
            for money_then_months in (f"{text} 6", f"{text} miezi 6", f"{text} for 6 months", f"{text} ለ 6 ወራት"):
                assert parse.amount_and_months(money_then_months, currency) == (minor, 6), money_then_months


@pytest.mark.parametrize("currency", ["TZS", "UGX", "XOF", "RWF"])
def test_cents_of_a_whole_unit_currency_are_refused_not_rounded(currency):
    for text, code in (("12,5", "decimals"), ("0.5", "decimals"), ("1,00", "ambiguous"), ("5 000,50", "decimals")):
        with pytest.raises(ParseError) as exc:
            parse.amount(text, currency)
        assert exc.value.code == code, text


# ---------------------------------------------------------------- every command, end to end






def recorded(db) -> tuple[int, ...]:
    with session_scope(db) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (Entry, Request, Loan, PurchasePayment))


@pytest.fixture
def saccos(db, cluster, add_member):
    """A treasurer and a member with TSh 100,000 saved and a TSh 100,000 loan paid out."""

    def make(lang: str, channel: str):
        officer, officer_address = speaker(db, add_member, TREASURER, lang, channel, admin_role="treasurer")
        member, address = speaker(db, add_member, MEMBER, lang, channel, name="Asha")
        with session_scope(db) as s:
            c, m, t = s.get(Cluster, cluster.id), s.get(Member, member.id), s.get(Member, officer.id)
            store.record_deposit(s, c, m, 100_000 * TZS, t, NOW)
            loan = store.request_loan(s, c, m, 100_000 * TZS, 6, NOW)
            store.decide_loan(s, c, loan.id, t, True, NOW)
            store.disburse_loan(s, c, loan.id, t, NOW)
            purchase = pstore.create_purchase(s, c, item="Maize seed", unit="kg", units="kg", whole_units=False,
                                              unit_price=4_500 * TZS, minimum=10_000,
                                              deadline=NOW + timedelta(days=12), now=NOW)
            pstore.offer(s, purchase, [m], NOW)
            pstore.pledge(s, purchase.id, m, 10_000_000, NOW)  # 10,000 kg: TSh 45,000,000 due
            return member, address, officer_address, purchase.id

    return make


def last_amount(db, table, field: str) -> tuple[int, str]:
    with session_scope(db) as s:
        row = s.exec(select(table).order_by(table.id.desc())).first()
        return getattr(row, field), row.reference


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_money_command_reads_the_bots_own_amounts_whole(db, settings, saccos, lang, channel):
    member, address, officer, purchase = saccos(lang, channel)
    for shillings in (17_166, 1_000, 5):
        for own in sorted(written(shillings * TZS, "TZS", lang, "TZ")):
            ref = f"R{shillings}{len(own)}{'N' if own.isascii() else 'U'}"
            one_reply(db, settings, address, channel, f"{kw('REPAY', lang)} {own} {ref}1", now=NOW)
            assert last_amount(db, Request, "amount_minor") == (shillings * TZS, f"{ref}1"), own
            one_reply(db, settings, officer, channel, f"{kw('WITHDRAW', lang)} {member.number} {own} {ref}2", now=NOW)
            assert last_amount(db, Entry, "amount_minor") == (-shillings * TZS, f"{ref}2"), own
            one_reply(db, settings, address, channel, f"{kw('PAID', lang)} {purchase} {own} {ref}3", now=NOW)
            assert last_amount(db, PurchasePayment, "amount") == (shillings * TZS, f"{ref}3"), own
            one_reply(db, settings, officer, channel, f"{kw('RECEIVED', lang)} {purchase} {member.number} {own} {ref}4", now=NOW)
            assert last_amount(db, PurchasePayment, "amount") == (shillings * TZS, f"{ref}4"), own


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_loan_reads_the_bots_own_amount_with_its_months_before_or_after(db, settings, cluster, add_member, lang,
                                                                          channel):
    officer = add_member(TREASURER, admin_role="treasurer")
    member, address = speaker(db, add_member, MEMBER, lang, channel)
    with session_scope(db) as s:
        store.record_deposit(s, s.get(Cluster, cluster.id), s.get(Member, member.id), 1_000 * TZS,
                             s.get(Member, officer.id), NOW)
    months_word = {"en": "months", "sw": "miezi", "fr": "mois", "am": "ወር"}[lang]
    for own in sorted(written(500 * TZS, "TZS", lang, "TZ")):
        for text in (f"{kw('LOAN', lang)} {months_word} 6 {own}", f"{kw('LOAN', lang)} 6 {months_word} {own}",
                     f"{kw('LOAN', lang)} {own} {months_word} 6"):
            one_reply(db, settings, address, channel, text, now=NOW)
            with session_scope(db) as s:
                loan = s.exec(select(Loan)).one()
                assert (loan.principal_minor, loan.term_months) == (500 * TZS, 6), text
                s.delete(loan)


@pytest.mark.parametrize("lang", LANGS)
def test_a_loans_figures_with_unknown_words_get_the_loans_usage(db, settings, cluster, add_member, lang):
    add_member(MEMBER, language=lang)
    loan = kw("LOAN", lang)
    usage = sms.outgoing(i18n.translate(
        lang, "Send {keyword}, the amount and the months, for example: {keyword} 300000 6", keyword=loan))
    months_word = {"en": "months", "sw": "miezi", "fr": "mois", "am": "ወር"}[lang]
    for text in (f"{loan} 100000 {months_word} 6 asante", f"{loan} 100000 6 {months_word} 3"):
        assert one_reply(db, settings, MEMBER, "sms", text, now=NOW) == usage, text
    figures = sms.outgoing(i18n.translate(lang, parse.PLEASE_AMOUNT))
    assert one_reply(db, settings, MEMBER, "sms", f"{loan} elfu kumi 6", now=NOW) == figures  # no figures at all
    assert recorded(db) == (0, 0, 0, 0)


REFUSED = [("1,00", "ambiguous"), ("12,5", "decimals"), ("0.5", "decimals"), ("999999999999", "too_large")]


def says(reply: str, lang: str, code: str) -> bool:
    """Whether the reply is the parser's refusal `code` in that language (its words between placeholders)."""
    text = i18n.gettext_for(lang, parse.message_for("amount", code))
    pieces = [p.strip(" .,:;") for p in re.split(r"\{\w+\}", text) if p.strip(" .,:;")]
    return all(sms.outgoing(piece) in reply or piece in reply for piece in pieces)


@pytest.mark.parametrize("lang", LANGS)
def test_purchase_payments_refuse_what_cannot_be_shillings_and_record_nothing(db, settings, saccos, lang):
    member, address, officer, purchase = saccos(lang, "sms")
    before = recorded(db)
    for amount, code in REFUSED:
        for sender, text in ((address, f"{kw('PAID', lang)} {purchase} {amount} R1"),
                             (officer, f"{kw('RECEIVED', lang)} {purchase} {member.number} {amount} R1")):
            reply = one_reply(db, settings, sender, "sms", text, now=NOW)
            assert says(reply, lang, code), (text, reply)
    assert recorded(db) == before


@pytest.mark.parametrize("lang", LANGS)
def test_newbuy_reads_the_bots_own_prices_and_refuses_bad_ones(db, settings, cluster, add_member, lang):
    add_member(TREASURER, language=lang, admin_role="facilitator")

    def step() -> tuple[str, str]:
        with session_scope(db) as s:
            identity = s.exec(select(Identity).where(Identity.address == TREASURER)).one()
            conv = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).one()
            return conv.step, conv.data

    for answer in (kw("NEWBUY", lang), "Maize seed", "kg", "2"):
        say(db, settings, TREASURER, answer, now=NOW)
    assert step()[0] == "price"
    for amount, code in REFUSED:
        reply = one_reply(db, settings, TREASURER, "sms", amount, now=NOW)
        assert says(reply, lang, code) and step()[0] == "price", (amount, reply)
    own = i18n.format_money(17_166 * TZS, "TZS", lang, "TZ")
    say(db, settings, TREASURER, sms.outgoing(own), now=NOW)
    assert step()[0] == "usual" and '"price": 1716600' in step()[1]


@pytest.mark.parametrize("lang", LANGS)
def test_the_cli_reads_the_bots_own_amounts_and_refuses_cents(cli_run, db, cluster, lang):
    own = i18n.format_money(20_000 * TZS, "TZS", lang, "TZ")
    fine = i18n.format_money(1_250 * TZS, "TZS", lang, "TZ")
    code, out, err = cli_run("savings", "rules", "--contribution", own, "--fine", fine, "--ceiling", "5 000 000")
    assert code == 0, err
    with session_scope(db) as s:
        rules = store.rules_for(s, s.get(Cluster, cluster.id))
        assert (rules.contribution_minor, rules.fine_minor, rules.ceiling_minor) == (
            20_000 * TZS, 1_250 * TZS, 5_000_000 * TZS)
    for bad in ("0.5", "12,5", "1,00"):
        code, _out, err = cli_run("savings", "rules", "--fine", bad)
        assert code == 2 and "is not an amount" in err, bad
