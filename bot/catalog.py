"""Every message the code can send, and which translations each language still lacks.

Messages are found the way translators' tools find them, by Babel's extractor reading the source: the first
argument of `reply`, `t` and `N_`, the third of `notify`, the second of `translate`. A msgid built at run
time is invisible here, which is why the code must never build one.

Each message belongs to a domain catalog named after the module it comes from: the foundation (the engine,
context, channels, registration, account, choices...) is `messages.po`; any other module, such as
`bot/handlers/savings.py` or `bot/dashboard.py`, has its own (`savings.po`, `dashboard.po`).

    python -m bot.catalog update   # rewrite bot/locales/templates/<domain>.pot, list what is missing
    python -m bot.catalog check    # only list what is missing; exit status 1 if anything is
    python -m bot.catalog keywords # the README's table of every command's keywords, as Markdown
"""

from __future__ import annotations

import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.handlers import COMMANDS
from bot.i18n import LANGUAGES, LOCALES_DIR, Plural, complete
from bot.router import keyword_table

BOT_DIR = Path(__file__).parent
PROJECT_DIR = BOT_DIR.parent
TEMPLATES_DIR = LOCALES_DIR / "templates"
KEYWORDS = {"reply": (1,), "t": (1,), "notify": (3,), "N_": (1,), "translate": (2,), "NP_": (1, 2)}
FOUNDATION = "messages"
FOUNDATION_MODULES = frozenset({
    "__init__", "app", "catalog", "cli", "config", "context", "dispatch", "engine", "i18n", "logsafe", "money",
    "outbox", "router", "runtime", "scheduler", "sms", "tables", "registration", "account", "choices",
})
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
# Where a domain too large for one module becomes a package named after the domain.
DOMAIN_PACKAGES = frozenset({"handlers", "cli", "jobs"})


@dataclass
class Message:
    msgid: str
    domain: str
    locations: list[tuple[str, int]]
    plural: str = ""  # the English plural of a counted message (NP_), else empty

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders(self.msgid) | placeholders(self.plural)

    @property
    def key(self) -> str | Plural:
        """What the code passes to translate(): the msgid, or the Plural of a counted message."""
        return Plural(self.msgid, self.plural) if self.plural else self.msgid

    def english(self, count: int) -> str:
        """The English text for `count`: a counted message's plural for any count but 1, else the msgid."""
        return self.plural if self.plural and count != 1 else self.msgid


def domain_of(path: Path, root: Path = BOT_DIR) -> str:
    """The catalog a module's messages go in: the foundation's, or the module's own name."""
    relative = path.relative_to(root)
    if relative.parts[0] == "channels" or path.stem in FOUNDATION_MODULES and len(relative.parts) <= 2:
        return FOUNDATION
    if len(relative.parts) > 2 and relative.parts[0] in DOMAIN_PACKAGES:
        return relative.parts[1]  # bot/handlers/purchases/officers.py belongs to purchases
    return path.stem


def source_files(root: Path = BOT_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "locales" not in p.relative_to(root).parts)


def extract(root: Path = BOT_DIR) -> dict[str, Message]:
    """{msgid: Message} for every message in the code; a msgid used in two modules keeps its first domain."""
    found: dict[str, Message] = {}
    for path in source_files(root):
        where = path.relative_to(PROJECT_DIR).as_posix() if path.is_relative_to(PROJECT_DIR) else str(path)
        for lineno, msgid, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
            plural = ""
            if isinstance(msgid, tuple) and len(msgid) == 2 and all(isinstance(m, str) for m in msgid):
                msgid, plural = msgid
            if not isinstance(msgid, str) or not msgid:
                continue
            entry = found.setdefault(msgid, Message(msgid, domain_of(path, root), [], plural))
            entry.locations.append((where, lineno))
    return found


def placeholders(text: str) -> frozenset[str]:
    """The names of the `{placeholders}` in a message ('{amount:>8}' and '{m.name}' count as their root)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".", 1)[0].split("[", 1)[0])
    return frozenset(names)


def po_files(lang: str) -> list[Path]:
    return sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po"))


def translations(lang: str) -> dict[str, tuple[str | tuple[str, ...], str]]:
    """{msgid: (translation, domain file stem)} from every catalog of a language; fuzzy ones do not count.

    A counted message is keyed by its singular and its translation is one string per plural form; it
    counts only when every form the language needs is there.
    """
    found: dict[str, tuple[str | tuple[str, ...], str]] = {}
    forms = Catalog(locale=lang).num_plurals
    for path in po_files(lang):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                if isinstance(message.string, tuple) and len(message.string) != forms:
                    continue
                if msgid and complete(message.string) and not message.fuzzy:
                    found.setdefault(msgid, (message.string, path.stem))
    return found


def forms_of(translation: str | tuple[str, ...]) -> tuple[str, ...]:
    return translation if isinstance(translation, tuple) else (translation,)


def missing(messages: dict[str, Message], lang: str) -> dict[str, list[str]]:
    """{domain: [msgids]} that have no translation in `lang` in any of its catalogs."""
    have = translations(lang)
    gaps: dict[str, list[str]] = {}
    for msgid, message in messages.items():
        if msgid not in have:
            gaps.setdefault(message.domain, []).append(msgid)
    return gaps


def mismatched(messages: dict[str, Message], lang: str) -> list[str]:
    """Lines naming each translation whose placeholders differ from its msgid's."""
    problems = []
    for msgid, (translation, stem) in translations(lang).items():
        for text in forms_of(translation):
            if msgid in messages and placeholders(text) != messages[msgid].placeholders:
                problems.append(f"{lang}/{stem}.po: {msgid!r} has {sorted(placeholders(text))}, "
                                f"expected {sorted(messages[msgid].placeholders)}")
    return problems


def stale(messages: dict[str, Message], lang: str) -> dict[str, list[str]]:
    """{catalog stem: [msgids]} translated but no longer in the code."""
    gone: dict[str, list[str]] = {}
    for msgid, (_text, stem) in translations(lang).items():
        if msgid not in messages:
            gone.setdefault(stem, []).append(msgid)
    return gone


def describe_missing(gaps_by_lang: dict[str, dict[str, list[str]]]) -> str:
    """A report a translator can act on: language, the file to edit, then each missing msgid."""
    lines = []
    for lang, gaps in gaps_by_lang.items():
        for domain, msgids in sorted(gaps.items()):
            lines.append(f"{lang}: bot/locales/{lang}/LC_MESSAGES/{domain}.po lacks {len(msgids)}:")
            lines.extend(f"    {msgid!r}" for msgid in msgids)
    return "\n".join(lines)


def write_templates(messages: dict[str, Message], directory: Path = TEMPLATES_DIR) -> list[Path]:
    """One `.pot` per domain, for `pybabel init` / `pybabel update` and for translators' tools."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for domain in sorted({m.domain for m in messages.values()}):
        template = Catalog(project="clusterbot", version="0.1", domain=domain, fuzzy=False, header_comment=(
            f"# Messages of clusterbot's {domain} catalog, extracted from the code by python -m bot.catalog update.\n"
            f"# Do not edit: translate in bot/locales/<lang>/LC_MESSAGES/{domain}.po."))
        for message in messages.values():
            if message.domain == domain:
                flags = ("python-brace-format",) if message.placeholders else ()
                msgid = (message.msgid, message.plural) if message.plural else message.msgid
                template.add(msgid, locations=message.locations, flags=flags)
        path = directory / f"{domain}.pot"
        with path.open("wb") as fh:
            write_po(fh, template, width=110, omit_header=False, sort_output=False, include_lineno=True)
        written.append(path)
    return written


def report(messages: dict[str, Message], languages: Iterable[str] = TRANSLATED) -> tuple[str, bool]:
    """The whole state of the catalogs as text, and whether anything needs a translator."""
    languages = list(languages)
    gaps = {lang: missing(messages, lang) for lang in languages}
    problems = [line for lang in languages for line in mismatched(messages, lang)]
    lines = [f"{len(messages)} messages in the code."]
    text = describe_missing({lang: g for lang, g in gaps.items() if g})
    lines.append(text or "Every message is translated in " + ", ".join(languages) + ".")
    if problems:
        lines.append("Placeholders that differ:")
        lines.extend("    " + p for p in problems)
    for lang in languages:
        for stem, msgids in sorted(stale(messages, lang).items()):
            lines.append(f"{lang}/{stem}.po has {len(msgids)} no longer used (harmless): "
                         + "; ".join(repr(m) for m in msgids))
    return "\n".join(lines), any(gaps.values()) or bool(problems)


WHO = {"anyone": "anyone", "member": "members (pending too)", "active": "members",
       "facilitator": "facilitators", "treasurer": "treasurer", "admin": "facilitators, treasurer"}


def keyword_markdown() -> str:
    """One row per command: who may send it and its keywords in each language (first = shown in HELP)."""
    table = keyword_table()
    lines = ["| command | who | " + " | ".join(LANGUAGES) + " |", "|---" * (len(LANGUAGES) + 2) + "|"]
    for name, command in COMMANDS.items():
        if not command.help and name == "LINK":
            continue
        words = table.get(name, {})
        cells = [", ".join(f"`{w.upper()}`" for w in words.get(lang, [])) for lang in LANGUAGES]
        lines.append(f"| {name} | {WHO[command.access]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv == ["keywords"]:
        print(keyword_markdown())
        return 0
    if len(argv) != 1 or argv[0] not in ("update", "check"):
        print("usage: python -m bot.catalog update|check", file=sys.stderr)
        return 2
    messages = extract()
    if argv[0] == "update":
        for path in write_templates(messages):
            print(f"wrote {path.relative_to(PROJECT_DIR)}")
    text, incomplete = report(messages)
    print(text)
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
