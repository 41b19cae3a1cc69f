"""Keywords in every language, matched case- and accent-insensitively, with Telegram /commands."""

from collections import defaultdict

import pytest

from bot import i18n, router
from bot.handlers import COMMANDS

LANGS = ("en", "sw", "fr", "am")


@pytest.mark.parametrize("text, command, lang", [
    ("JOIN", "JOIN", "en"), ("jiunge", "JOIN", "sw"), ("Adhérer", "JOIN", "fr"), ("ADHERER", "JOIN", "fr"),
    ("ተቀላቀል", "JOIN", "am"), ("tekelakel", "JOIN", "am"),
    ("help", "HELP", "en"), ("MSAADA", "HELP", "sw"), ("Aide", "HELP", "fr"), ("እርዳታ", "HELP", "am"),
    ("lugha sw", "LANG", "sw"), ("LANGUE fr", "LANG", "fr"), ("ቋንቋ am", "LANG", "am"),
    ("Wasifu", "PROFILE", "sw"), ("profil", "PROFILE", "fr"), ("መገለጫ", "PROFILE", "am"),
    ("ACHA", "STOP", "sw"), ("arrêter", "STOP", "fr"), ("ARRETER", "STOP", "fr"), ("አቁም", "STOP", "am"),
    ("StopAll", "STOP", "en"), ("unsubscribe", "STOP", "en"),
    ("anza", "START", "sw"), ("Démarrer", "START", "fr"), ("ጀምር", "START", "am"),
    ("KUBALI MOSHI-001", "APPROVE", "sw"), ("accepter 3", "APPROVE", "fr"), ("አጽድቅ 3", "APPROVE", "am"),
    ("kataa 3", "REJECT", "sw"), ("refuser 3", "REJECT", "fr"), ("ውድቅ 3", "REJECT", "am"),
])
def test_keywords_in_every_language(text, command, lang):
    found = router.match(text)
    assert found is not None and (found.command, found.lang) == (command, lang)


def test_arguments_follow_the_keyword_and_punctuation_is_ignored():
    assert router.match("  join   moshi  ") == router.Match("JOIN", "en", "moshi")
    assert router.match("Help!").command == "HELP"
    assert router.match("JIUNGE, MOSHI").args == "MOSHI"


@pytest.mark.parametrize("text", ["/join", "/join@ClusterBot", "/JOIN@clusterbot_bot moshi", "/jiunge"])
def test_telegram_commands_with_or_without_bot_name(text):
    found = router.match(text)
    assert found is not None and found.command == "JOIN"
    assert found.args == ("moshi" if text.endswith("moshi") else "")


@pytest.mark.parametrize("text", ["", "   ", "hello there", "😀", "JOINT", "/", "@join", "x" * 10_000])
def test_no_keyword(text):
    assert router.match(text) is None


def test_every_command_has_keywords_in_every_language():
    table = router.keyword_table()
    lacking = [f"{name}: {lang}" for name, command in COMMANDS.items() if command.help
               for lang in LANGS if not table.get(name, {}).get(lang)]
    assert not lacking, "commands HELP shows without a keyword in that language:\n" + "\n".join(lacking)


def test_no_word_means_two_commands():
    """The same folded word under two commands (in any languages, any domain files) is ambiguous."""
    meanings = defaultdict(set)
    for command, langs in router.keyword_table().items():
        meanings[router.fold(command)].add(command)
        for words in langs.values():
            for word in words:
                meanings[router.fold(word)].add(command)
    clashes = {word: sorted(commands) for word, commands in meanings.items() if len(commands) > 1}
    assert not clashes, f"keywords that mean two commands (bot/locales/keywords/*.toml): {clashes}"


def test_keywords_are_single_words_that_fold_to_themselves():
    bad = [(command, lang, word) for command, langs in router.keyword_table().items()
           for lang, words in langs.items() for word in words
           if len(word.split()) != 1 or router.fold(word) != router.fold(router.fold(word))
           or router.fold(word).strip(".,!?:;") != router.fold(word)]
    assert not bad


def test_keyword_files_use_only_supported_languages():
    assert {lang for langs in router.keyword_table().values() for lang in langs} <= set(i18n.LANGUAGES)


def test_keyword_shown_is_the_first_of_the_language():
    assert router.keyword("JOIN", "sw") == "JIUNGE"
    assert router.keyword("JOIN", "fr") == "ADHÉRER"
    assert router.keyword("HELP", "am") == "እርዳታ"
    assert router.keyword("LINK", "sw") == "LINK"  # falls back to English


def test_fold_ignores_case_and_accents():
    assert router.fold("ÉVÉNEMENT") == router.fold("evenement") == "evenement"
    assert router.fold("ሰላም") == "ሰላም"
