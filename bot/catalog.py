"""Every message the code can send, and which translations each language still lacks.

Messages are found the way translators' tools find them, by Babel's extractor reading the source: the first
argument of `reply`, `t` and `N_`, the third of `notify`, the second of `translate`. A msgid built at run
time is invisible here, which is why the code must never build one.

Each message belongs to a domain catalog named after the module it comes from: the foundation (the engine,
context, channels, registration, account...) is `messages.po`; any other module, such as
`bot/handlers/savings.py` or `bot/dashboard.py`, has its own (`savings.po`, `dashboard.po`).

The web pages' words are found apart (`extract_pages`): Jinja2's extractor reads the templates in
`bot/templates/<domain>/` (`_`, `gettext`, `ngettext`), and `P_` marks a page sentence kept in Python. They
go in their domain's catalog too, but are checked against that catalog alone, since the pages load it alone
(`i18n.domain_translations`), and they are not SMS: no segment budget applies.

    python -m bot.catalog update   # rewrite bot/locales/templates/<domain>.pot, list what is missing
    python -m bot.catalog check    # only list what is missing; exit status 1 if anything is
    python -m bot.catalog keywords # the README's table of every command's keywords, as Markdown
    python -m bot.catalog romanise # seed bot/locales/am_Latn (romanised Amharic for USSD screens) from am

The romanised Amharic catalogs (`am_Latn`, the rendering language am-Latn of plain GSM-7 screens) are not
checked for missing entries: `romanise` adds every message the am catalogs translate, spelt from the
Amharic, each marked `seeded from am by transliteration: review` until a native speaker reviews it; and
an entry still missing falls back at run time to the Amharic translation romanised (bot/i18n.py).
"""

from __future__ import annotations

import io
import re
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot import router, sms
from bot.handlers import COMMANDS
from bot.i18n import LANGUAGES, LOCALES_DIR, SCREEN_LANGUAGE, Plural, base_language, catalog_dir, complete
from bot.router import keyword_table

BOT_DIR = Path(__file__).parent
PROJECT_DIR = BOT_DIR.parent
TEMPLATES_DIR = LOCALES_DIR / "templates"
PAGE_TEMPLATES_DIR = BOT_DIR / "templates"
KEYWORDS = {"reply": (1,), "t": (1,), "notify": (3,), "N_": (1,), "translate": (2,), "NP_": (1, 2)}
PAGE_KEYWORDS = {"P_": (1,)}
JINJA = "jinja2.ext:babel_extract"
PAGE_FORMAT = re.compile(r"%\((\w+)\)")
FOUNDATION = "messages"
FOUNDATION_MODULES = frozenset({
    "__init__", "app", "catalog", "cli", "config", "context", "dispatch", "engine", "i18n", "logsafe",
    "outbox", "router", "runtime", "scheduler", "sms", "tables", "registration", "account",
})
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
# Where a domain too large for one module becomes a package named after the domain.
DOMAIN_PACKAGES = frozenset({"handlers", "cli", "jobs"})


@dataclass
class Message:
    msgid: str
    domain: str
    locations: list[tuple[str, int]]
    plural: str = ""  # the English plural of a counted message (NP_, or ngettext on a page), else empty

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders(self.msgid) | placeholders(self.plural)

    @property
    def key(self) -> str | Plural:
        """What the code passes to translate(): the msgid, or the Plural of a counted message."""
        return Plural(self.msgid, self.plural) if self.plural else self.msgid

    def english(self, count: int) -> str:
        """The English text `count` picks: the singular or the plural of a counted message."""
        return self.key.english(count) if self.plural else self.msgid


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
        where = _where(path)
        for lineno, msgid, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
            plural = ""
            if isinstance(msgid, tuple) and len(msgid) == 2 and all(isinstance(m, str) for m in msgid):
                msgid, plural = msgid
            if not isinstance(msgid, str) or not msgid:
                continue
            entry = found.setdefault(msgid, Message(msgid, domain_of(path, root), [], plural))
            entry.locations.append((where, lineno))
    return found


def _where(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix() if path.is_relative_to(PROJECT_DIR) else str(path)


def extract_pages(root: Path = BOT_DIR) -> dict[str, Message]:
    """{msgid: Message} for every sentence of the web pages: each template in `templates/<domain>/` belongs
    to that domain; a `P_()` string in a module to the module's domain. A plural keeps its English plural."""
    sources = [(path, "python", PAGE_KEYWORDS, domain_of(path, root)) for path in source_files(root)]
    sources += [(path, JINJA, None, path.parent.name)
                for path in sorted((root / "templates").glob("*/*.html"))]
    found: dict[str, Message] = {}
    for path, method, keywords, domain in sources:
        options = {"extensions": "jinja2.ext.i18n"} if method == JINJA else None
        extra = {"keywords": keywords} if keywords else {}
        for lineno, msgid, _comments, _context in extract_from_file(method, path, options=options, **extra):
            singular, plural = (msgid[0], msgid[1]) if isinstance(msgid, tuple) else (msgid, "")
            if not isinstance(singular, str) or not singular:
                continue
            entry = found.setdefault(singular, Message(singular, domain, [], plural or ""))
            entry.locations.append((_where(path), lineno))
    return found


def domain_catalog(lang: str, domain: str) -> dict[str, tuple[str, ...]]:
    """{msgid: translated forms} of one domain's catalog; fuzzy or partly translated entries do not count."""
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    found = {}
    for message in catalog:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if msgid and not message.fuzzy and len(forms) == (catalog.num_plurals if message.pluralizable else 1) \
                and all(forms):
            found[msgid] = forms
    return found


def missing_pages(messages: dict[str, Message], lang: str) -> dict[str, list[str]]:
    """{domain: [msgids]} of page messages without a full translation in their own domain's catalog."""
    gaps: dict[str, list[str]] = {}
    have = {domain: domain_catalog(lang, domain) for domain in {m.domain for m in messages.values()}}
    for msgid, message in messages.items():
        if msgid not in have[message.domain]:
            gaps.setdefault(message.domain, []).append(msgid)
    return gaps


def mismatched_pages(messages: dict[str, Message], lang: str) -> list[str]:
    """Page translations whose `%(name)s` placeholders differ from the msgid's, or that a stray `%` breaks."""
    problems = []
    for domain in sorted({m.domain for m in messages.values()}):
        for msgid, forms in domain_catalog(lang, domain).items():
            if msgid not in messages:
                continue
            expected = set(PAGE_FORMAT.findall(msgid))
            for text in forms:
                try:
                    text % dict.fromkeys(expected, 1)
                except (KeyError, ValueError, TypeError):
                    problems.append(f"{lang}/{domain}.po: {text!r} does not format with {sorted(expected)}")
                    continue
                if set(PAGE_FORMAT.findall(text)) != expected and not messages[msgid].plural:
                    problems.append(f"{lang}/{domain}.po: {msgid!r} has {sorted(PAGE_FORMAT.findall(text))}, "
                                    f"expected {sorted(expected)}")
    return problems


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
                if PAGE_FORMAT.search(message.msgid):
                    flags = ("python-format",)
                template.add((message.msgid, message.plural) if message.plural else message.msgid,
                             locations=message.locations, flags=flags)
        path = directory / f"{domain}.pot"
        with path.open("wb") as fh:
            write_po(fh, template, width=110, omit_header=False, sort_output=False, include_lineno=True)
        written.append(path)
    return written


def report(messages: dict[str, Message], languages: Iterable[str] = TRANSLATED,
           pages: dict[str, Message] | None = None) -> tuple[str, bool]:
    """The whole state of the catalogs as text, and whether anything needs a translator (the web pages'
    messages, if given, are checked against their own catalogs)."""
    pages = pages or {}
    languages = list(languages)
    gaps = {lang: missing(messages, lang) for lang in languages}
    problems = [line for lang in languages for line in mismatched(messages, lang)]
    lines = [f"{len(messages)} messages in the code."]
    text = describe_missing({lang: g for lang, g in gaps.items() if g})
    lines.append(text or "Every message is translated in " + ", ".join(languages) + ".")
    if problems:
        lines.append("Placeholders that differ:")
        lines.extend("    " + p for p in problems)
    page_gaps = {lang: g for lang in languages if (g := missing_pages(pages, lang))}
    page_problems = [line for lang in languages for line in mismatched_pages(pages, lang)]
    if pages:
        lines.append(f"{len(pages)} messages in the web pages.")
        lines.append(describe_missing(page_gaps) or "Every page message is translated in " + ", ".join(languages) + ".")
        lines.extend("    " + p for p in page_problems)
    for lang in languages:
        for stem, msgids in sorted(stale({**pages, **messages}, lang).items()):
            lines.append(f"{lang}/{stem}.po has {len(msgids)} no longer used (harmless): "
                         + "; ".join(repr(m) for m in msgids))
    return "\n".join(lines), any(gaps.values()) or bool(problems) or bool(page_gaps) or bool(page_problems)


WHO = {"anyone": "anyone", "member": "members (pending too)", "active": "members",
       "facilitator": "facilitators", "treasurer": "treasurer", "admin": "facilitators, treasurer"}
# Commands both officers may send whose storage rule then narrows who may act (storage.savings.may_confirm:
# the treasurer confirms members' requests, a facilitator only the treasurer's own).
WHO_NARROWED = {"CONFIRM": "treasurer (facilitators: the treasurer's own)",
                "DECLINE": "treasurer (facilitators: the treasurer's own)"}


def keyword_markdown() -> str:
    """One row per command: who may send it and its keywords in each language (first = shown in HELP)."""
    table = keyword_table()
    lines = ["| command | who | " + " | ".join(LANGUAGES) + " |", "|---" * (len(LANGUAGES) + 2) + "|"]
    for name, command in COMMANDS.items():
        if not command.help and name == "LINK":
            continue
        words = table.get(name, {})
        cells = [", ".join(f"`{w.upper()}`" for w in words.get(lang, [])) for lang in LANGUAGES]
        lines.append(f"| {name} | {WHO_NARROWED.get(name, WHO[command.access])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SEEDED = "seeded from am by transliteration: review"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CAPITALS = re.compile(r"\b[A-Z][A-Z-]*[A-Z]\b")
SIGNS = "«»\"'.,;:!?()\u1361\u1362\u1363\u1364\u1365\u1366\u1367"


def shown_commands(msgid: str) -> set[str]:
    """The commands an English message shows by their keyword in capitals (Send JOIN, Reply YES {id})."""
    found = set()
    for word in CAPITALS.findall(PLACEHOLDER.sub(" ", msgid)):
        entry = router.lookup_table().get(router.fold(word))
        if entry and router.fold(word) in map(router.fold, keyword_table()[entry[0]].get("en", [])):
            found.add(entry[0])
    return found


def romanise_entry(msgid: str, text: str, screen: str) -> str:
    """An Amharic translation spelt for a plain screen: each keyword the English shows in capitals is the
    screen's own keyword (router.keyword), the rest romanised as sentences, all in the GSM-7 basic set."""
    base = base_language(screen)
    words = {router.fold(w): command for command in shown_commands(msgid)
             for w in keyword_table()[command].get(base, [])}
    parts = []
    for part in re.split(r"(\s+)", text):
        core = part.strip(SIGNS)
        command = words.get(router.fold(core)) if core else None
        if command:
            before, after = part[:part.index(core)], part[part.index(core) + len(core):]
            part = before.replace("«", "") + router.keyword(command, screen) + after.replace("»", "")
        parts.append(part)
    return sms.romanise("".join(parts), names=False).replace("«", '"').replace("»", '"')


def romanise_catalogs(screen: str = "am-Latn") -> dict[str, int]:
    """{domain: entries added}: each message the base language's catalog of a domain translates and the
    screen's lacks, spelt by romanise_entry and marked SEEDED. An entry already there (reviewed or not) is
    never touched; new ones are appended to the file as they are."""
    base = base_language(screen)
    added = {}
    for source in po_files(base):
        target = catalog_dir(screen) / source.name
        with source.open("rb") as fh:
            original = read_po(fh, locale=base)
        have = set()
        if target.is_file():
            with target.open("rb") as fh:
                have = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(fh, locale=base)}
        seeded = Catalog(locale=base, domain=source.stem, project="clusterbot", version="0.1", fuzzy=False,
                         last_translator="clusterbot (seeded from am)", language_team=screen,
                         header_comment=(
                             f"# Romanised Amharic ({screen}) of clusterbot's {source.stem} messages, for screens\n"
                             f"# that show only plain GSM-7 (USSD). Conventions: bot/locales/am_Latn/TERMS.md.\n"
                             f"# Seeded from am/{source.name} by python -m bot.catalog romanise; an entry still\n"
                             f"# marked \"{SEEDED}\" awaits a native speaker."))
        for message in original:
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            if not msgid or msgid in have or message.fuzzy or not complete(message.string):
                continue
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            spelt = tuple(romanise_entry(msgid, form, screen) for form in forms)
            seeded.add(message.id, spelt if isinstance(message.string, tuple) else spelt[0],
                       locations=message.locations, flags=message.flags, auto_comments=[SEEDED])
        if not len(seeded):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        write_po(buf, seeded, width=0, omit_header=target.is_file(), sort_output=False, include_lineno=False)
        with target.open("ab") as fh:
            fh.write(("\n" if target.stat().st_size else "").encode() + buf.getvalue().lstrip(b"\n"))
        added[source.stem] = len(seeded)
    return added


def main(argv: list[str]) -> int:
    if argv == ["keywords"]:
        print(keyword_markdown())
        return 0
    if argv == ["romanise"]:
        for screen in SCREEN_LANGUAGE.values():
            for domain, count in romanise_catalogs(screen).items():
                print(f"{screen}: added {count} to {(catalog_dir(screen) / domain).relative_to(PROJECT_DIR)}.po")
        return 0
    if len(argv) != 1 or argv[0] not in ("update", "check"):
        print("usage: python -m bot.catalog update|check|keywords|romanise", file=sys.stderr)
        return 2
    messages, pages = extract(), extract_pages()
    if argv[0] == "update":
        for path in write_templates({**pages, **messages}):
            print(f"wrote {path.relative_to(PROJECT_DIR)}")
    text, incomplete = report(messages, pages=pages)
    print(text)
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
