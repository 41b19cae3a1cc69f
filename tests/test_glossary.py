"""The glossary by SMS: lookups in four languages, MORE, overrides, and local words adopted by vote."""


from datetime import timedelta

from sqlmodel import select

from bot import sms
from bot.scheduler import run_due
from storage import glossary as store
from storage.clusters import create_cluster
from storage.db import session_scope, utcnow
from storage.glossary import GlossaryBallot, GlossaryEntry, GlossaryHistory, GlossaryProposal, GlossaryVote
from storage.members import Identity
from storage.messages import Conversation
from tests.conftest import outbox

FAC = "+255712000009"


def one_sms(text: str) -> bool:
    enc = sms.encode(text)
    return enc.segments == 1 if enc.encoding == "GSM-7" else enc.units <= 134


def test_maana_klasta_gives_the_swahili_definition_in_one_sms(phone, cluster, add_member):
    stranger = phone("+255712000050").last("maana klasta")
    assert stranger.startswith("Klasta: Biashara") and "(ZAIDI)" in stranger and one_sms(stranger)
    add_member("+255712000001", language="sw")
    member = phone("+255712000001").last("MAANA klasta")
    assert member == stranger


def test_lookups_in_every_language_by_alias_and_with_typos(phone, cluster, add_member):
    add_member("+255712000001", language="en")
    add_member("+255712000002", language="fr")
    add_member("+255712000003", language="am")
    add_member("+255712000004", language="sw")
    en, fr, am, sw = (phone(f"+25571200000{i}") for i in range(1, 5))
    assert en.last("DEF cooperation and competition").startswith("Co-opetition: ")
    assert en.last("define trple helix").startswith("Triple Helix: Government")
    assert en.last("meaning SACCO").startswith("SACCOS: A savings")
    assert fr.last("def coopetition").startswith("Coopétition: ")
    assert fr.last("SENS triple helice").startswith("Triple hélice: ")
    assert fr.last("definition klasta").startswith("Cluster: Entreprises")
    assert am.last("ትርጉም ክላስተር").startswith("ክላስተር: ")
    assert am.last("ትርጉም ዕቁብ").startswith("ተዘዋዋሪ ፈንድ: ")
    assert am.last("ትርጉም cluster facilitator").startswith("አመቻች: ")
    assert sw.last("maana mwezeshji").startswith("Mwezeshaji: ")
    assert sw.last("MAANA value chain").startswith("Mnyororo wa thamani: ")
    for p in (en, fr, am, sw):
        assert one_sms(p.last("DEF low hanging fruit"))


def test_a_stranger_is_answered_in_the_language_of_the_word(phone, cluster):
    assert phone("+255712000060").last("DEF ክላስተር").startswith("ክላስተር: ")


def test_unsure_lookup_offers_choices_and_a_digit_picks(phone, cluster, add_member):
    add_member("+255712000001")
    p = phone("+255712000001")
    offer = p.last("DEF plan")
    assert offer.startswith("Did you mean: 1 ") and "2 " in offer and one_sms(offer)
    second = offer.split("2 ", 1)[1].split(",")[0].split("?")[0]
    assert p.last("2").startswith(second + ": ")
    unknown = p.last("DEF xylophone")
    assert "PROPOSE xylophone = your word" in unknown


def test_def_alone_lists_topics_and_a_digit_lists_their_terms(phone, cluster):
    p = phone("+255712000050")
    topics = p.last("DEF")
    assert topics.startswith("Topics: 1 Basics") and "5 Money" in topics
    money = p.last("5")
    assert money.startswith("Money: SACCOS, Revolving fund") and one_sms(money)


def test_more_pages_the_long_explanation_one_segment_at_a_time(phone, cluster, db):
    p = phone("+255712000050")
    assert p.last("DEF cluster").endswith("(MORE)")
    pages = [p.last("MORE")]
    while pages[-1].endswith("(MORE)"):
        pages.append(p.last("more"))
        assert len(pages) <= 3
    assert all(one_sms(page) for page in pages)
    with session_scope(db) as s:
        entry = s.exec(select(GlossaryEntry).where(GlossaryEntry.name == "Cluster", GlossaryEntry.lang == "en")).one()
    assert " ".join(page.removesuffix(" (MORE)") for page in pages) == entry.long
    assert p.last("MORE") == "There is nothing more to show."


def test_a_lookup_does_not_push_aside_another_conversation(phone, cluster, add_member, db):
    add_member(FAC, admin_role="facilitator")
    f = phone(FAC)
    f.last("DEFSET Mama lishe")
    f.last("A woman who cooks and sells food to workers.")
    assert f.last("0").startswith("Save the definition")
    looked_up = f.last("DEF cluster")
    assert looked_up.startswith("Cluster: Firms") and not looked_up.endswith("(MORE)")
    with session_scope(db) as s:
        assert s.exec(select(Conversation)).one().flow == "glossary.edit"
    assert f.last("1").startswith("Saved.")


def test_a_facilitators_definition_wins_for_their_cluster_only(phone, cluster, add_member, db):
    add_member(FAC, admin_role="facilitator")
    add_member("+255712000001")
    with session_scope(db) as s:
        other = create_cluster(s, "Arusha Dairy", "ARUSHA")
    add_member("+255712000002", cluster_obj=other)
    f = phone(FAC)
    assert f.last("DEFSET cluster").startswith("Editing Cluster.")
    assert "longer explanation" in f.last("Our tailors of Moshi working side by side.")
    assert "Save the definition of Cluster?" in f.last("0")
    assert "Saved." in f.last("1")
    assert phone("+255712000001").last("DEF cluster") == "Cluster: Our tailors of Moshi working side by side."
    assert phone("+255712000002").last("DEF cluster").startswith("Cluster: Firms or farms")
    assert phone("+255712000050").last("DEF cluster").startswith("Cluster: Firms or farms")
    f.last("DEFSET Mama lishe")
    f.last("A woman who cooks and sells food to workers.")
    f.last("0")
    f.last("1")
    assert phone("+255712000001").last("DEF mama lishe").startswith("Mama lishe: A woman who cooks")
    assert "I have no definition" in phone("+255712000002").last("DEF mama lishe")
    with session_scope(db) as s:
        assert [h.action for h in s.exec(select(GlossaryHistory))] == ["add", "add"]


def test_a_too_long_definition_is_refused_and_asked_again(phone, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    f = phone(FAC)
    f.last("DEFSET cluster")
    assert f.last("x" * 200).startswith("Too long")
    assert "longer explanation" in f.last("Short and fine.")


def test_members_cannot_open_votes_edit_definitions_or_choose_the_weekly_day(phone, cluster, add_member, db):
    add_member("+255712000001")
    add_member("+255712000002", status="pending")
    p = phone("+255712000001")
    p.last("PROPOSE cluster initiative = umoja")
    assert p.last("VOTE OPEN cluster initiative") == "Only a facilitator can do that."
    assert p.last("DEFSET cluster") == "Only a facilitator can do that."
    assert p.last("WEEKLY monday") == "Only a facilitator can do that."
    assert "approval" in phone("+255712000002").last("PROPOSE cluster = kundi")
    assert "registered" in phone("+255712000050").last("PROPOSE cluster = kundi")
    with session_scope(db) as s:
        assert s.exec(select(GlossaryBallot)).all() == []
        assert len(s.exec(select(GlossaryProposal)).all()) == 1
        assert store.settings_for(s, cluster.id).weekly_day is None


def test_bad_proposals_change_nothing(phone, cluster, add_member, db):
    add_member("+255712000001")
    p = phone("+255712000001")
    assert p.last("PROPOSE cluster initiative").startswith("Send PROPOSE, the term, =")
    assert p.last("PROPOSE cluster initiative = ").startswith("Send PROPOSE")
    assert "too long" in p.last("PROPOSE cluster initiative = " + "neno" * 10)
    assert "proposed for Cluster initiative" in p.last("PROPOSE cluster initiative = umoja")
    assert "already proposed" in p.last("PROPOSE cluster initiative = Umoja")
    with session_scope(db) as s:
        assert len(s.exec(select(GlossaryProposal)).all()) == 1


def _members(add_member, count: int) -> list[str]:
    phones = [f"+2557120001{i:02d}" for i in range(count)]
    for number in phones:
        add_member(number)
    return phones


def _propose_and_open(phone, add_member, words: list[str], members: int) -> tuple[list[str], int]:
    add_member(FAC, admin_role="facilitator")
    phones = _members(add_member, members)
    for number, word in zip(phones, words, strict=False):
        phone(number).last(f"PROPOSE cluster initiative = {word}")
    reply = phone(FAC).last("VOTE OPEN cluster initiative")
    assert reply.startswith("Vote ") and "is open until" in reply
    return phones, int(reply.split()[1])


def test_whole_vote_adopts_the_word_early_by_absolute_majority(phone, cluster, add_member, db):
    phones, ballot = _propose_and_open(phone, add_member, ["umoja", "mshikamano"], 6)
    polls = outbox(db, phones[0], kind="poll")
    assert len(polls) == 2 and "VOTE" in polls[0].text and polls[1].text == f"Vote {ballot}: 1 umoja, 2 mshikamano"
    assert all(one_sms(m.text) for m in polls)
    assert phone(phones[0]).last("1").startswith("Thank you! Your vote for umoja")
    assert phone(phones[1]).last(f"VOTE {ballot} 2").startswith("Thank you! Your vote for mshikamano")
    assert phone(phones[1]).last(f"VOTE {ballot} 1").startswith("Your vote is now umoja")
    assert "already voted" in phone(phones[1]).last(f"VOTE {ballot} 1")
    phone(phones[2]).last("1")
    with session_scope(db) as s:
        assert s.get(GlossaryBallot, ballot).status == "open"  # 3 of 7 active is not yet a majority
    phone(phones[3]).last("1")
    with session_scope(db) as s:
        done = s.get(GlossaryBallot, ballot)
        assert (done.status, done.winner) == ("adopted", "umoja")
        assert len(s.exec(select(GlossaryVote)).all()) == 4
        history = s.exec(select(GlossaryHistory).where(GlossaryHistory.action == "adopt")).one()
        assert '"umoja": 4' in history.details and "MOSHI-002" in history.details
    told = [m.text for m in outbox(db, FAC) if "is now our word" in m.text]
    assert told == [f"Vote {ballot}: umoja is now our word for Cluster initiative, with 4 of 4 votes."]
    assert any("is now our word" in m.text for m in outbox(db, phones[1]))
    assert not any("is now our word" in m.text for m in outbox(db, phones[4]))
    assert phone(phones[5]).last("DEF cluster initiative").startswith("Cluster initiative (here: umoja): A lasting")
    assert phone(phones[5]).last("DEF umoja").startswith("Cluster initiative (here: umoja): ")
    assert phone("+255712000050").last("DEF cluster initiative").startswith("Cluster initiative: ")
    assert "closed" in phone(phones[4]).last(f"VOTE {ballot} 2")


def test_vote_closes_on_schedule_with_a_simple_majority_once(phone, cluster, add_member, db, settings):
    phones, ballot = _propose_and_open(phone, add_member, ["umoja", "mshikamano"], 12)
    for number, digit in zip(phones, "11122", strict=False):
        phone(number).last(digit)
    later = utcnow() + timedelta(days=8)
    assert run_due(db, settings, later)["glossary.close_votes"] > 0
    assert run_due(db, settings, later + timedelta(minutes=1))["glossary.close_votes"] == 0
    with session_scope(db) as s:
        assert s.get(GlossaryBallot, ballot).winner == "umoja"
        assert s.get(GlossaryBallot, ballot).tally == "[3, 2]"
    assert len([m for m in outbox(db, FAC) if "is now our word" in m.text]) == 1


def test_too_few_votes_adopt_nothing(phone, cluster, add_member, db, settings):
    phones, ballot = _propose_and_open(phone, add_member, ["umoja", "mshikamano"], 12)
    for number in phones[:3]:
        phone(number).last("1")
    run_due(db, settings, utcnow() + timedelta(days=8))
    with session_scope(db) as s:
        assert s.get(GlossaryBallot, ballot).status == "no_quorum"
    assert any("5 were needed" in m.text for m in outbox(db, FAC))
    assert phone(phones[0]).last("DEF cluster initiative").startswith("Cluster initiative: ")


def test_a_tie_adopts_nothing_and_the_facilitator_is_told(phone, cluster, add_member, db):
    phones, ballot = _propose_and_open(phone, add_member, ["umoja", "mshikamano"], 12)
    for number, digit in zip(phones, "111222", strict=False):
        phone(number).last(digit)
    assert "result has been sent" in phone(FAC).last(f"VOTE CLOSE {ballot}")
    with session_scope(db) as s:
        assert s.get(GlossaryBallot, ballot).status == "tie"
    assert any("ended in a tie (umoja 3, mshikamano 3)" in m.text for m in outbox(db, FAC))
    assert not any("is now our word" in m.text for m in outbox(db, phones[0]))
    assert "Vote" in phone(FAC).last("VOTE OPEN cluster initiative")  # a new round may follow


def test_a_member_in_another_conversation_votes_with_the_fallback(phone, cluster, add_member, db):
    add_member(FAC, admin_role="facilitator")
    phones = _members(add_member, 2)
    phone(phones[0]).last("PROPOSE cluster initiative = umoja")
    phone(phones[1]).last("PROPOSE cluster initiative = mshikamano")
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.address == phones[0])).one()
        s.add(Conversation(identity_id=identity.id, flow="join", step="gender", data="{}"))
    ballot = int(phone(FAC).last("VOTE OPEN cluster initiative").split()[1])
    assert any(f"VOTE {ballot}" in m.text for m in outbox(db, phones[0], kind="poll"))
    assert phone(phones[0]).last(f"VOTE {ballot} 2").startswith("Thank you! Your vote for mshikamano")
    assert phone(phones[1]).last("1").startswith("Thank you! Your vote for umoja")
    with session_scope(db) as s:
        flows = {c.identity_id: c.flow for c in s.exec(select(Conversation))}
        voter = s.exec(select(Identity).where(Identity.address == phones[1])).one()
        assert flows[identity.id] == "join" and voter.id not in flows  # untouched, and done once answered


def test_term_of_the_week_is_sent_once_a_week(phone, cluster, add_member, db, settings):
    add_member(FAC, admin_role="facilitator")
    _members(add_member, 3)
    assert phone(FAC).last("WEEKLY monday") == "The term of the week will be sent every Monday."
    monday = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=7)
    monday -= timedelta(days=monday.weekday())  # 15:00 in Dar es Salaam

    def weekly():
        return [m for m in outbox(db, kind="broadcast") if m.batch.startswith("glossary-week")]

    for moment in (monday - timedelta(days=1), monday - timedelta(hours=8), monday + timedelta(days=1)):
        run_due(db, settings, moment)
    assert weekly() == []
    for hours in (0, 1, 5):
        run_due(db, settings, monday + timedelta(hours=hours))
    first = weekly()
    assert len(first) == 4 and len({m.address for m in first}) == 4
    assert all(m.text.startswith("Term of the week: ") and one_sms(m.text) for m in first)
    run_due(db, settings, monday + timedelta(days=7, hours=1))
    second = weekly()[4:]
    assert len(second) == 4 and second[0].text != first[0].text
    assert phone(FAC).last("WEEKLY off") == "The term of the week is off."
    run_due(db, settings, monday + timedelta(days=14, hours=1))
    assert len(weekly()) == 8


def test_a_cluster_adopts_a_word_for_a_term_nobody_defined(phone, cluster, add_member, db):
    add_member(FAC, admin_role="facilitator")
    phones = _members(add_member, 3)
    asked = phone(phones[0]).last("PROPOSE Mama lishe = mpishi")  # no such term: a request, not a term
    assert asked.startswith("Mama lishe is not in the glossary yet") and "mpishi" in asked
    assert "DEFSET Mama lishe" in outbox(db, FAC)[-1].text
    assert "I have no definition" in phone(phones[1]).last("DEF mama lishe")
    f = phone(FAC)
    f.last("DEFSET Mama lishe")
    f.last("A woman who cooks and sells food to workers.")
    f.last("0")
    f.last("1")
    for number in phones:
        assert "proposed for Mama lishe" in phone(number).last("PROPOSE Mama lishe = mpishi")
    ballot = int(phone(FAC).last("VOTE OPEN mama lishe").split()[1])
    for number in phones:
        phone(number).last("1")
    with session_scope(db) as s:
        assert s.get(GlossaryBallot, ballot).winner == "mpishi"
    assert phone(phones[1]).last("DEF mpishi").startswith("Mama lishe (here: mpishi): A woman who cooks")
