"""French SMS follow bot/locales/fr/TERMS.md and stay GSM-7 by the choice of words, not stripped accents.

The words of the table's "not" column never appear in an SMS msgstr; no msgstr has a letter GSM-7 lacks
(ê ô â î û ï ë ç œ, capital À); and none has the stripped spelling of a word that needs one ("Pret du",
"depot"). The web pages of dashboard.po are not SMS and are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import catalog

TERMS = Path(catalog.BOT_DIR) / "locales" / "fr" / "TERMS.md"
NOT_GSM7 = re.compile("[êôâîûïëçœÀÊÔÂÎÛ]")
ALLOWED = ("PEUT-ÊTRE",)  # a keyword members type; see TERMS.md, "Not decided"
# Stripped spellings of words that need a letter GSM-7 lacks. "du", "sur" and "a" are French words too,
# so only phrases in which they can only be the stripped word are listed.
STRIPPED = ("pret", "prets", "pret du", "montant du", "reste du", "somme due", "depot", "depots", "cout",
            "couts", "recu", "recus", "recoit", "recoivent", "tache", "taches", "fete", "plait", "meme",
            "etre", "etes", "role", "interet", "interets", "bientot", "cloture", "enquete", "surement",
            "deja", "francais", "apres", "a payer", "a rembourser", "grace")


def not_words(text: str) -> list[str]:
    """The words of the "not" column of the Terms table (the table whose header has a "not" column)."""
    words, column = [], None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            column = None
        elif "not" in cells:
            column = cells.index("not")
        elif column is not None and not set(cells[0]) <= set("-"):
            words += [w.strip() for w in cells[column].split(",") if w.strip()]
    return words


def matcher(words) -> re.Pattern:
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.IGNORECASE)


def sms_texts() -> list[tuple[str, str]]:
    """(file, text) of every French form of every SMS message the code sends."""
    messages = catalog.extract()
    return [(stem, text) for msgid, (translation, stem) in catalog.translations("fr").items()
            if msgid in messages for text in catalog.forms_of(translation)]


def problems(texts, forbidden: re.Pattern, stripped: re.Pattern) -> list[str]:
    found = []
    for stem, text in texts:
        bare = text
        for word in ALLOWED:
            bare = bare.replace(word, "")
        for why, hit in (("not GSM-7", NOT_GSM7.search(bare)), ("TERMS.md says not", forbidden.search(text)),
                         ("stripped spelling", stripped.search(text))):
            if hit:
                found.append(f"fr/{stem}.po: {why} {hit.group()!r}: {text!r}")
    return found


NOT = not_words(TERMS.read_text(encoding="utf-8"))


def test_terms_lists_the_words_not_to_use():
    assert {"prêt", "dépôt", "facilitateur", "fixe", "écriture", "rôle"} <= set(NOT), NOT


def test_french_sms_follow_the_terms_and_gsm7():
    found = problems(sms_texts(), matcher(NOT), matcher(STRIPPED))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("bad", [
    "Prêt dû : 5 000.", "Pret du : 5 000.", "Votre depot est noté.", "Un facilitateur va répondre.",
    "Crédit à 2% (fixe).", "Le montant doit être positif.", "A rembourser : 5 000.", "Vous êtes inscrit.",
    "Envoyez ARRET pour arrêter.",
])
def test_the_check_can_fail(bad):
    assert problems([("demo", bad)], matcher(NOT), matcher(STRIPPED))


@pytest.mark.parametrize("good", [
    "Crédit à rembourser : 5 000.", "Le prix du sac.", "Répondez OUI 2 ou PEUT-ÊTRE 2.", "Vous pouvez emprunter.",
])
def test_the_check_passes_good_french(good):
    assert not problems([("demo", good)], matcher(NOT), matcher(STRIPPED))
