"""Every message in the code is translated into sw, fr and am, and every rendering fits the SMS budget.

The msgids come from the code (Babel's extractor, bot/catalog.py), so a message added anywhere is checked
here at once. Failures name the language, the catalog file to edit and each msgid, so the domain that owns
the message can fix it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot import catalog, i18n, router, sms
from bot.handlers import COMMANDS, MODULES, account, events, registration
from bot.handlers.registration import GENDERS, QUESTIONS, ROLES, STATUS_LABELS
from bot.handlers.savings import members, treasurer
from storage.events import Event
from tests.conftest import say

MESSAGES = catalog.extract()
PAGES = catalog.extract_pages()  # the web pages' words (dashboard domain)
# What each side's messages are checked with: the SMS ones against every catalog of a language, the
# pages' against their own catalog alone, since the pages load it alone.
SIDES = {
    "messages": (MESSAGES, catalog.missing, catalog.mismatched),
    "page messages": (PAGES, catalog.missing_pages, catalog.mismatched_pages),
}
LANGS = ("en", "sw", "fr", "am")
TRANSLATED = ("sw", "fr", "am")
REGIONS = ("TZ", "KE", "SN", "ET")
CURRENCIES = ("TZS", "KES", "XOF", "ETB")
UCS2_LIMIT = 2 * sms.UCS2_MULTI  # 134: what two concatenated UCS-2 segments carry
ETHIOPIC = re.compile("[\u1200-\u139f]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

# The longest realistic value of each placeholder every domain may use; handler modules add their own
# in SAMPLES. Values that depend on the reader's language are computed in base_samples().
BASE = {
    "name": "Mwanaisha Abdallah Kilimanjaro",  # 30
    "number": "MOSHI-0123",
    "cluster": "Kilimanjaro Coffee Growers Ltd",  # 30
    "business": "Mama Ntilie Tailoring & Design",  # 30
    "sector": "Vegetable processing",  # 20
    "location": "Kibosho, Kilimanjaro",  # 20
    "code": "KILIMANJAROGROWERS20",  # the longest join code a cluster may have
    "count": "12345",
    "limit": "10000",
    "ref": "+255 712 345 678 000",  # 20
    "example": "MOSHI-0123",
    "id": "1234",
    "title": "Annual general meeting & coffee training",  # 40
    "place": "Moshi Cooperative Union Hall B",  # 30
    "term": "Warehouse receipt system (WRS)",  # 30
    "word": "Sustainability reporting.",  # 25
}
assert all(len(BASE[k]) == n for k, n in
           {"name": 30, "cluster": 30, "business": 30, "sector": 20, "location": 20, "ref": 20,
            "title": 40, "place": 30, "term": 30, "word": 25}.items())


def longest(values) -> str:
    return max((str(v) for v in values), key=len)


@cache
def base_samples(lang: str) -> dict[str, str]:
    """BASE plus the values worded in the reader's language: money, dates, labels, keywords.

    Money is 9,999,999 in the longest spelling Babel gives in any cluster currency and country; dates are
    every day of a year at 23:59 in East Africa, in every cluster country's variant of the language.
    """
    money = longest(i18n.format_money(9_999_999 * 10 ** i18n.minor_digits(c), c, lang, r)
                    for c in CURRENCIES for r in REGIONS)
    start = datetime(2027, 1, 1, 20, 59, tzinfo=ZoneInfo("UTC"))
    moments = [start + timedelta(days=d) for d in range(366)]

    def label(msgids) -> str:
        return longest(i18n.translate(lang, msgid) for msgid in msgids)

    keywords = [router.keyword(c.name, lang) for c in COMMANDS.values() if c.help]
    return {
        **BASE,
        "amount": money, "balance": money, "total": money,
        "when": longest(i18n.format_when(m, lang, "Africa/Dar_es_Salaam", r) for m in moments for r in REGIONS),
        "date": longest(i18n.format_day(m, lang, r) for m in moments for r in REGIONS),
        "keyword": longest(router.keyword(c, lang) for c in router.keyword_table()),
        "status": label(STATUS_LABELS.values()),
        "gender": label(m for _v, m in GENDERS),
        "role": label(m for _v, m in ROLES),
        "language": longest(i18n.LANGUAGE_NAMES.values()),
        "commands": ", ".join(keywords[:7]),
        "question": label(QUESTIONS.values()),
    }


def module_samples() -> dict[str, dict]:
    return {m.__name__.rsplit(".", 1)[-1]: dict(getattr(m, "SAMPLES", {})) for m in MODULES}


def samples_for(domain: str, lang: str) -> dict:
    """Base values, then every module's SAMPLES (the longest wins), then the message's own module's."""
    values = dict(base_samples(lang))
    own = module_samples()
    for samples in own.values():
        for key, value in samples.items():
            if key not in values or len(str(value)) > len(str(values[key])):
                values[key] = value
    values.update(own.get(domain, {}))
    return values


def over_budget(lang: str, text: str) -> str | None:
    """Why an SMS text breaks the budget, or None: one GSM-7 segment, or 134 UCS-2 units for Amharic."""
    enc = sms.encode(text)
    if enc.encoding == "GSM-7":
        return None if enc.units <= sms.GSM7_SINGLE else f"{enc.units} GSM-7 characters (max 160)"
    if lang != "am":
        odd = sorted({ch for ch in sms.normalise(text) if not sms.is_gsm7(ch)})
        return f"needs UCS-2 because of {odd}"
    return None if enc.units <= UCS2_LIMIT else f"{enc.units} UCS-2 characters (max {UCS2_LIMIT})"


def test_extraction_finds_the_foundation_messages():
    assert MESSAGES["Please answer in 2 to {limit} letters."].domain == "messages"
    assert MESSAGES["Woman"].domain == "messages"  # N_() in a table
    assert "Only the treasurer can do that." in MESSAGES  # N_() in bot/context.py
    assert "More registrations wait for approval: see the members page of the dashboard." in MESSAGES  # notify()
    assert all(m.domain == "messages" for m in MESSAGES.values() if m.locations[0][0].startswith("bot/engine"))


@pytest.mark.parametrize("lang", TRANSLATED)
@pytest.mark.parametrize("side", SIDES)
def test_every_message_is_translated(side, lang):
    found, missing, _mismatched = SIDES[side]
    gaps = missing(found, lang)
    assert not gaps, f"untranslated {side}:\n" + catalog.describe_missing({lang: gaps})


@pytest.mark.parametrize("lang", TRANSLATED)
@pytest.mark.parametrize("side", SIDES)
def test_translations_keep_the_placeholders(side, lang):
    found, _missing, mismatched = SIDES[side]
    problems = mismatched(found, lang)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_left(lang):
    left = []
    for msgid, (translation, stem) in catalog.translations(lang).items():
        words = PLACEHOLDER.sub("", msgid).split()
        if msgid not in MESSAGES or not any(w.isalpha() for w in words):
            continue
        english = {msgid, MESSAGES[msgid].plural}
        for text in catalog.forms_of(translation):
            if lang == "am" and not ETHIOPIC.search(text) or lang != "am" and len(words) >= 3 and text in english:
                left.append(f"{lang}/{stem}.po: {msgid!r} -> {text!r}")
    assert not left, "translations still in English:\n" + "\n".join(left)


def _english_keywords(msgid: str) -> list[str]:
    """Commands named by an English keyword in capitals inside a sentence (Send JOIN, Reply YES {id}).

    A word in capitals that opens the message or a sentence is a label or a name (SACCOS savings: ...).
    """
    text = PLACEHOLDER.sub("0", msgid)
    commands = []
    for found in re.finditer(r"\b[A-Z][A-Z-]*[A-Z]\b", text):
        before = text[:found.start()].rstrip()
        if not before or before.endswith((".", "!", "?")):
            continue
        word = router.fold(found.group())
        entry = router.lookup_table().get(word)
        if entry and word in map(router.fold, router.keyword_table()[entry[0]].get("en", [])):
            commands.append(entry[0])
    return commands


def _own_words(command: str, lang: str) -> set[str]:
    words = router.keyword_table().get(command, {})
    return {router.fold(w) for w in (words.get(lang) or words.get("en") or [command])}


def _shows(text: str, words: set[str], lang: str) -> set[str]:
    """Which of the keywords a translation shows: whole words, or inside a word for Amharic (prefixes)."""
    folded = router.fold(PLACEHOLDER.sub(" ", text))
    if lang == "am":
        return {w for w in words if w in folded}
    return words & set(re.findall(r"[\w-]+", folded))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_keywords_in_messages_are_the_languages_own(lang):
    """'Send JOIN' is 'Tuma JIUNGE' in Swahili: a member must be shown a word they can type back."""
    wrong = []
    for msgid, (translation, stem) in catalog.translations(lang).items():
        if msgid not in MESSAGES:
            continue
        for text, command in ((t, c) for t in catalog.forms_of(translation) for c in _english_keywords(msgid)):
            own = _own_words(command, lang)
            if not _shows(text, own, lang):
                wrong.append(f"{lang}/{stem}.po: {msgid!r} should show {router.keyword(command, lang)} "
                             f"for {command}: {text!r}")
            english = {router.fold(w) for w in router.keyword_table()[command].get("en", [])} - own
            shown = [t for t in re.findall(r"\b[A-Z][A-Z-]*[A-Z]\b", text) if router.fold(t) in english]
            if shown:
                wrong.append(f"{lang}/{stem}.po: {msgid!r} shows the English {shown}: {text!r}")
    assert not wrong, "\n".join(wrong)


def test_help_list_is_the_end_of_its_sentence():
    """HELP appends keywords to the worded prefix, so {commands} must close the sentence in every language."""
    for lang in LANGS:
        assert i18n.translate(lang, "You can send: {commands}", commands="").endswith(": ") or \
            i18n.translate(lang, "You can send: {commands}", commands="").endswith("፦ "), lang


def test_every_placeholder_has_a_sample():
    unknown = []
    for msgid, message in MESSAGES.items():
        values = samples_for(message.domain, "en")
        for name in sorted(message.placeholders - values.keys()):
            unknown.append(f"{{{name}}} in {msgid!r} ({message.locations[0][0]}): add it to SAMPLES "
                           f"in bot/handlers/{message.domain}.py")
    assert not unknown, "placeholders without a sample value:\n" + "\n".join(unknown)


def render(lang: str, msgid: str, count: int | None = None) -> str:
    """The message with the longest sample values; a counted message with `count` for {count}."""
    values = samples_for(MESSAGES[msgid].domain, lang)
    if count is not None:
        values = {**values, "count": count}
    return i18n.translate(lang, MESSAGES[msgid].key, region="TZ", tz="Africa/Dar_es_Salaam", **values)


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_fits_one_sms(lang):
    too_long = []
    for msgid, message in MESSAGES.items():
        if message.placeholders - samples_for(message.domain, lang).keys():
            continue  # reported by test_every_placeholder_has_a_sample
        for count in (1, 2, 5, 12345) if message.plural else (None,):
            text = render(lang, msgid, count)
            problem = over_budget(lang, text)
            if problem:
                too_long.append(f"{lang} ({message.domain}): {problem}: {msgid!r}\n    -> {sms.outgoing(text)!r}")
    assert not too_long, f"{len(too_long)} messages over the SMS budget:\n" + "\n".join(too_long)


def test_budget_check_can_fail():
    assert over_budget("en", "x" * 161) and over_budget("fr", "ሰላም") and over_budget("am", "ሰ" * 135)
    assert over_budget("en", "x" * 160) is None and over_budget("am", "ሰ" * 134) is None


# ---------------------------------------------------------------- an empty field leaves no punctuation
# What an empty field leaves behind: ", ." or ", ,", "()", ": .", a reference shown as "-", two spaces.
ARTEFACT = re.compile(r"[,፣]\s*[.,;:።፣፤]|\s[.,።፣]|\(\s*\)|[:፦]\s*[.,።]|\b(?:ref|réf|kumb)\.?\s+[-,.)]|\S\s{2,}\S"
                      r"|[,፣(:፦]\s*$")


def empty_field_cases():
    """(msgid the code chooses, the fields left empty) for each message with an optional field."""
    cases = [(events.placed(msgid, Event(title="x", place="")), {"venue"})
             for msgid in (events.INVITATION, events.MOVED, events.ANSWERED["yes"], events.PLACE_OPENED,
                           events.REMINDER)]
    for given in product((True, False), repeat=2):
        cases.append((registration.ANNOUNCEMENTS[given], {k for k, v in zip(("business", "location"), given, strict=True)
                                                          if not v}))
    for given in product((True, False), repeat=3):
        cases.append((account.PROFILES[given], {k for k, v in zip(("business", "sector", "location"), given,
                                                                                   strict=True)
                                                if not v}))
    cases += [(members.TO_CONFIRM[kind, False], {"ref"}) for kind in ("deposit", "repayment")]
    cases += [(treasurer.DECLINED[why, False], {"ref"}) for why in ("reason", "facilitator", "treasurer")]
    return cases


@pytest.mark.parametrize("lang", LANGS)
def test_a_message_never_shows_the_punctuation_of_an_empty_field(lang):
    """Each message the code chooses for an empty field (no place, no business, no reference...) reads as a
    whole sentence in every language, with the field empty."""
    cases = empty_field_cases()
    assert len(cases) == 22
    found = []
    for msgid, empty in cases:
        assert not MESSAGES[msgid].placeholders & empty, (msgid, empty)  # its own sentence, no such field
        values = {**samples_for(MESSAGES[msgid].domain, lang), **dict.fromkeys(empty, "")}
        text = i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **values)
        if ARTEFACT.search(text):
            found.append(f"{lang}: {msgid!r} -> {text!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", LANGS)
def test_the_empty_field_check_can_fail(lang):
    """The message with the field, given an empty one, shows what the check looks for."""
    for msgid, field in ((events.INVITATION, "venue"), (members.TO_CONFIRM["deposit", True], "ref")):
        values = {**samples_for(MESSAGES[msgid].domain, lang), field: ""}
        text = i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **values)
        assert ARTEFACT.search(text), text
    assert ARTEFACT.search("ref -, ok") and ARTEFACT.search("Status ().") and not ARTEFACT.search("Invitation : x")


# The longest realistic names in Ethiopic script, for every placeholder that holds a name (sms.NAMES): an
# English, Swahili or French message that carries one would go out in UCS-2, where one segment is 70.
ETHIOPIC_NAMES = {
    "name": "ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ",  # Mrs Birtukan Gebremedhin Woldeselassie
    "member": "MOSHI-0123 ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ",
    "cluster": "የቢሾፍቱ የወተት አምራቾች ኅብረት ሥራ ማኅበር",
    "business": "የእማማ ጽጌ የልብስ ስፌትና ዲዛይን ሥራ",
    "sector": "የአትክልትና ፍራፍሬ ማቀነባበር",
    "location": "ቢሾፍቱ፣ ምሥራቅ ሸዋ ዞን",
    "village": "ደብረ ዘይት ቀበሌ ፲፬",
    "event": "የሩብ ዓመቱ የምርጥ ተሞክሮ አውደ ጥናት",
    "venue": "የቢሾፍቱ ኅብረት ሥራ ኮሌጅ አዳራሽ ሀ",
    "place": "የቢሾፍቱ ኅብረት ሥራ ማኅበር መጋዘን",
    "title": "የሩብ ዓመቱ የምርጥ ተሞክሮ ስልጠናና ጠቅላላ ጉባኤ",
    "item": "የበቆሎ ዘር ማዳበሪያ ዩሪያ ኤንፒኤስ",  # 24, the purchase's column
    "supplier": "የኦሮሚያ ግብርና ግብዓት አቅራቢ ድርጅት",
    "unit": "ኩንታል", "units": "ኩንታሎች",
    "term": "የመጋዘን ደረሰኝ ሥርዓት (ደረሰኝ)",
    "word": "የመጋዘን ደረሰኝ ሥርዓት",
}
assert set(ETHIOPIC_NAMES) == sms.NAMES


def name_budget(lang: str, text: str) -> str | None:
    """Why a text with a name in any script breaks its budget, or None: one GSM-7 segment (160), one UCS-2
    segment (70) for a member who does not read Amharic, 134 UCS-2 units for one who does."""
    enc = sms.encode(text)
    limit = sms.GSM7_SINGLE if enc.encoding == "GSM-7" else UCS2_LIMIT if lang == "am" else sms.UCS2_SINGLE
    return None if enc.units <= limit else f"{enc.units} {enc.encoding} characters (max {limit})"


def fitted(lang: str, msgid: str, values: dict) -> sms.Fitted:
    def word(shown: dict) -> str:
        return i18n.translate(lang, MESSAGES[msgid].key, region="TZ", tz="Africa/Dar_es_Salaam", **shown)

    return sms.fit(word, values, amharic=lang == "am")


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_with_a_name_fits_with_the_longest_name_in_any_script(lang):
    """Every message with a name, its names the longest Ethiopic ones and every other value the longest
    sample, fits its budget once the names are shortened, in every language."""
    too_long, checked = [], 0
    for msgid, message in MESSAGES.items():
        named = message.placeholders & sms.NAMES
        if not named or message.placeholders - samples_for(message.domain, lang).keys():
            continue
        values = {**samples_for(message.domain, lang), **{k: ETHIOPIC_NAMES[k] for k in named}}
        for count in (1, 2, 5, 12345) if message.plural else (None,):
            result = fitted(lang, msgid, values if count is None else {**values, "count": count})
            checked += 1
            problem = name_budget(lang, result.text)
            if problem or not result.fits:
                too_long.append(f"{lang} ({message.domain}): {problem}: {msgid!r}\n    -> {result.text!r}")
    assert checked > 100
    assert not too_long, f"{len(too_long)} messages over the budget with a long name:\n" + "\n".join(too_long)


@pytest.mark.parametrize("lang", LANGS)
def test_shortening_a_name_keeps_the_instruction_whole(lang):
    """The invitation with the longest Ethiopic title and place still ends with every word to reply."""
    msgid = "Invitation: {event}, {start}, {venue}. Reply YES {event_id}, NO {event_id} or MAYBE {event_id}."
    values = {**samples_for("events", lang), "event": ETHIOPIC_NAMES["event"] * 3,
              "venue": ETHIOPIC_NAMES["venue"] * 3}
    result = fitted(lang, msgid, values)
    assert result.fits and name_budget(lang, result.text) is None, result.text
    whole = i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **{**values, "event": "", "venue": ""})
    instruction = whole[whole.rindex(values["start"]) + len(values["start"]):].lstrip(" ,፣").split(" ", 1)[1]
    assert sms.outgoing(result.text).endswith(sms.outgoing(instruction)), (result.text, instruction)
    assert sms.ELLIPSIS in result.text


def test_a_name_is_spelt_in_latin_letters_for_a_member_who_does_not_read_amharic():
    values = {**samples_for("registration", "en"), "name": ETHIOPIC_NAMES["name"], "number": "MOSHI-0123"}
    english = fitted("en", "{number} {name} is now an active member.", values).text
    assert english == "MOSHI-0123 ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ is now an active member."  # fits 70 as it is
    notice = "New member {number}: {name}, {business}, {location}. Send APPROVE {number} or REJECT {number}."
    told = fitted("en", notice, {**values, "business": ETHIOPIC_NAMES["business"],
                                 "location": ETHIOPIC_NAMES["location"]})
    assert told.fits and sms.encode(told.text).encoding == "GSM-7", told.text
    assert told.text.startswith("New member MOSHI-0123: Weyzero Birtukan")
    assert told.text.endswith("Send APPROVE MOSHI-0123 or REJECT MOSHI-0123.")
    amharic = fitted("am", notice, {**values, "business": ETHIOPIC_NAMES["business"],
                                    "location": ETHIOPIC_NAMES["location"]})
    assert "ወይዘሮ ብርቱካን" in amharic.text and name_budget("am", amharic.text) is None


def test_the_name_rule_reports_a_text_whose_fixed_words_are_too_long():
    """Shortening names cannot save a text whose own words are over the budget: it is reported, not cut."""
    def word(values: dict) -> str:
        return "Reply YES {id} ".format(**values) * 13 + values["name"]

    result = sms.fit(word, {"id": "12", "name": "Mwanaisha Abdallah Kilimanjaro"})
    assert not result.fits and result.text == word({"id": "12", "name": "Mwanaisha Abdallah Kilimanjaro"})
    assert sms.fit(word, {"id": "12" * 100, "name": "Asha"}).fits is False  # an id is never shortened
    assert name_budget("en", "ሰ" * 71) and name_budget("en", "ሰ" * 70) is None and name_budget("am", "ሰ" * 134) is None


ROLES_FOR_HELP = {
    "stranger": None,
    "pending": dict(status="pending"),
    "member": dict(status="active"),
    "facilitator": dict(status="active", admin_role="facilitator"),
    "treasurer": dict(status="active", admin_role="treasurer"),
}


@pytest.mark.parametrize("role", ROLES_FOR_HELP)
@pytest.mark.parametrize("lang", LANGS)
def test_help_fits_for_every_language_and_role(db, settings, cluster, add_member, lang, role):
    address = "+255712000077"
    if ROLES_FOR_HELP[role] is not None:
        add_member(address, language=lang, **ROLES_FOR_HELP[role])
    replies = say(db, settings, address, router.keyword("HELP", lang).lower())
    assert len(replies) == 1
    text = replies[0]
    prefix = sms.outgoing(i18n.translate(lang, "You can send: {commands}", commands=""))
    assert text.startswith(prefix), text
    assert over_budget(lang, text) is None, text
    shown = text[len(prefix):].split(", ")
    assert len(shown) >= 2 and all(shown), text
    if role == "stranger":
        assert sms.outgoing(router.keyword("JOIN", lang)) in shown, text
    else:
        assert sms.outgoing(router.keyword("JOIN", lang)) not in shown, text


def test_domain_follows_the_module():
    bot = catalog.BOT_DIR
    assert catalog.domain_of(bot / "engine.py") == "messages"
    assert catalog.domain_of(bot / "channels" / "telegram.py") == "messages"
    assert catalog.domain_of(bot / "handlers" / "registration.py") == "messages"
    assert catalog.domain_of(bot / "handlers" / "savings.py") == "savings"
    assert catalog.domain_of(bot / "dashboard.py") == "dashboard"
    assert catalog.domain_of(bot / "handlers" / "purchases" / "officers.py") == "purchases"
    assert catalog.domain_of(bot / "handlers" / "purchases" / "__init__.py") == "purchases"
    assert catalog.domain_of(bot / "jobs" / "events.py") == "events"


def test_extraction_reads_every_marked_call(tmp_path):
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "demo.py").write_text(
        'ctx.reply("Hello {name}", name=n)\nctx.t("Bye")\nnotify(s, m, "Note " "joined", kind="notice")\n'
        'translate(lang, "Translated")\nN_("Kept")\nctx.reply(variable)\nctx.reply(f"built {x}")\n'
        '"abc".translate(table)\n')
    found = catalog.extract(tmp_path)
    assert found["Bye"].domain == "demo"
    assert set(found) == {"Hello {name}", "Bye", "Note joined", "Translated", "Kept"}
    assert found["Hello {name}"].placeholders == {"name"}


def test_templates_and_report(tmp_path, capsys):
    paths = catalog.write_templates(MESSAGES, tmp_path)
    assert tmp_path / "messages.pot" in paths
    with (tmp_path / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    ids = {m.id for m in template if m.id}
    assert ids == {m for m, e in MESSAGES.items() if e.domain == "messages"}
    assert "python-brace-format" in template["Please answer in 2 to {limit} letters."].flags
    text, _incomplete = catalog.report(MESSAGES)
    assert f"{len(MESSAGES)} messages in the code." in text
    assert catalog.main(["nonsense"]) == 2


def test_missing_translations_are_named_with_their_file():
    fake = {"Brand new message": catalog.Message("Brand new message", "savings", [("bot/handlers/savings.py", 1)])}
    gaps = catalog.missing(fake, "sw")
    assert gaps == {"savings": ["Brand new message"]}
    assert "bot/locales/sw/LC_MESSAGES/savings.po lacks 1" in catalog.describe_missing({"sw": gaps})


# ---------------------------------------------------------------- the web pages (dashboard domain)
# CLDR's rules as gettext indexes: French has a third form for round millions ("1 000 000 de membres").
PLURAL_INDEX = {"en": lambda n: int(n != 1), "sw": lambda n: int(n != 1),
                "fr": lambda n: 0 if n in (0, 1) else 1 if n % 1_000_000 == 0 else 2, "am": lambda n: int(n > 1)}


def test_extraction_finds_the_dashboard_pages():
    assert PAGES["Committed members"].domain == "dashboard"  # P_() in bot/dashboard.py
    assert PAGES["Dashboard login"].locations[0][0] == "bot/templates/dashboard/login.html"  # a template
    assert PAGES["%(num)s member"].plural == "%(num)s members"  # ngettext in a template
    assert "Your dashboard login code is {code}. It works for 10 minutes. Do not share it with anyone." \
        not in PAGES  # an SMS, checked with the SMS messages above


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_left_on_the_pages(lang):
    left = []
    for msgid, forms in catalog.domain_catalog(lang, "dashboard").items():
        words = re.sub(r"%\(\w+\)s|%%", "", msgid).split()
        if msgid not in PAGES or not any(w.isalpha() for w in words):
            continue
        if lang == "am" and not all(ETHIOPIC.search(f) for f in forms) or \
                lang != "am" and len(words) >= 3 and msgid in forms:
            left.append(f"{lang}/dashboard.po: {msgid!r} -> {forms!r}")
    assert not left, "translations still in English:\n" + "\n".join(left)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_dashboard_catalog_agrees_with_the_other_catalogs(lang):
    """The SMS side merges every catalog of a language, first file first: a msgid the pages share with
    another domain (the member statuses, genders, roles) must read the same, or one would show the other's."""
    pages = catalog.domain_catalog(lang, "dashboard")
    differ = [f"{lang}: {msgid!r} is {pages[msgid][0]!r} in dashboard.po, {text!r} in {stem}.po"
              for path in catalog.po_files(lang) if path.stem != "dashboard"
              for msgid, (text, stem) in catalog.translations(lang).items()
              if msgid in pages and stem == path.stem and pages[msgid] != (text,)]
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize("lang", LANGS)
def test_every_counted_page_message_has_its_plural_for_0_1_2_5(lang):
    """ngettext through the dashboard's own catalog picks the form the language's rule says."""
    translations = i18n.domain_translations("dashboard", lang)
    forms_of = catalog.domain_catalog(lang, "dashboard")
    counted = {msgid: m.plural for msgid, m in PAGES.items() if m.plural}
    assert len(counted) >= 10
    for msgid, plural in counted.items():
        forms = forms_of.get(msgid, (msgid, plural))
        for n in (0, 1, 2, 5):
            got = translations.ngettext(msgid, plural, n) % {"num": n}
            assert got == forms[PLURAL_INDEX[lang](n)] % {"num": n}, (lang, msgid, n, got)
    assert i18n.domain_translations("dashboard", "en").ngettext("%(num)s member", "%(num)s members", 1) \
        == "%(num)s member"


def test_the_page_check_names_what_is_missing():
    fake = {"Brand new page words": catalog.Message("Brand new page words", "dashboard",
                                                    [("bot/templates/dashboard/x.html", 1)])}
    gaps = catalog.missing_pages(fake, "sw")
    assert gaps == {"dashboard": ["Brand new page words"]}
    assert "bot/locales/sw/LC_MESSAGES/dashboard.po lacks 1" in catalog.describe_missing({"sw": gaps})
