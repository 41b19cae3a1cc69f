"""The cluster glossary: terms with per-language entries, local words agreed by vote, and their history.

A term is global (cluster_id NULL, shipped in the seed file) or belongs to one cluster. An entry is the
term's name, aliases and definitions in one language; a cluster's own entry for a language wins over the
global one for that cluster's members. Members propose local words; a facilitator puts them to a vote
(a ballot); the cluster's rule decides whether the winning word becomes the cluster's entry.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import object_session
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, func, select

from storage.clusters import Cluster, find_by_code
from storage.db import lock_row, utcnow
from storage.members import Member

LANGUAGES = ("en", "sw", "fr", "am")
TERM_STATUSES = ("seeded", "approved", "proposed")
BALLOT_STATUSES = ("open", "adopted", "tie", "no_quorum", "no_majority")
SEED_FILE = Path(__file__).with_name("glossary_seed.csv")
CSV_COLUMNS = ["key", "cluster", "topic", "lang", "name", "aliases", "short", "long", "status"]
WORD_LIMIT = 24
MAX_OPTIONS = 5
NAME_LIMIT = 60
SHORT_LIMIT = 140
LONG_LIMIT = 600


class GlossaryTerm(SQLModel, table=True):
    __tablename__ = "glossary_terms"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    topic: str = Field(default="", max_length=30)
    status: str = Field(default="approved", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)


class GlossaryEntry(SQLModel, table=True):
    """A term in one language; cluster_id set means this cluster's own wording of the term."""

    __tablename__ = "glossary_entries"
    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="glossary_terms.id", index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    lang: str = Field(max_length=5)
    name: str = Field(max_length=80)
    aliases: str = Field(default="", max_length=300)  # separated by "|"
    short: str = Field(default="", max_length=300)
    long: str = Field(default="")
    source: str = Field(default="seed", max_length=12)  # seed, facilitator, import, vote
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split("|") if a.strip()]


class GlossaryProposal(SQLModel, table=True):
    __tablename__ = "glossary_proposals"
    __table_args__ = (UniqueConstraint("term_id", "cluster_id", "member_id", "word_key"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    term_id: int = Field(foreign_key="glossary_terms.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    word: str = Field(max_length=40)
    word_key: str = Field(max_length=40)
    lang: str = Field(max_length=5)
    created_at: datetime = Field(default_factory=utcnow)


class GlossaryBallot(SQLModel, table=True):
    """A vote among proposed words for one term in one cluster."""

    __tablename__ = "glossary_ballots"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    term_id: int = Field(foreign_key="glossary_terms.id", index=True)
    lang: str = Field(max_length=5)
    status: str = Field(default="open", max_length=12, index=True)
    options: str = Field(default="[]")  # JSON list of words, in the order members see them
    opened_by: int | None = Field(default=None, foreign_key="members.id")
    opened_at: datetime = Field(default_factory=utcnow)
    closes_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None
    winner: str = Field(default="", max_length=40)
    tally: str = Field(default="")  # JSON list of counts, one per option, set when decided

    @property
    def words(self) -> list[str]:
        return json.loads(self.options)


class GlossaryVote(SQLModel, table=True):
    __tablename__ = "glossary_votes"
    __table_args__ = (UniqueConstraint("ballot_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="glossary_ballots.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    choice: int
    voted_at: datetime = Field(default_factory=utcnow)


class GlossarySettings(SQLModel, table=True):
    """A cluster's voting rule and its term-of-the-week choice (weekday 0 = Monday; None = off)."""

    __tablename__ = "glossary_settings"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", unique=True)
    min_votes: int = 5
    vote_days: int = 7
    early_majority: bool = True
    plurality: bool = False
    weekly_day: int | None = None
    weekly_hour: int = 9


class GlossaryHistory(SQLModel, table=True):
    __tablename__ = "glossary_history"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    term_id: int | None = Field(default=None, foreign_key="glossary_terms.id", index=True)
    action: str = Field(max_length=30)
    actor_member_id: int | None = Field(default=None, foreign_key="members.id")
    actor: str = Field(default="", max_length=80)
    details: str = Field(default="{}")


class GlossaryError(ValueError):
    """A glossary rule refused the change; `code` names the rule for the handler's wording."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


def record(session: Session, action: str, *, cluster_id: int | None, term_id: int | None,
           actor: Member | None = None, actor_name: str = "", at: datetime | None = None,
           **details) -> GlossaryHistory:
    row = GlossaryHistory(cluster_id=cluster_id, term_id=term_id, action=action,
                          actor_member_id=actor.id if actor else None,
                          actor=(actor.number if actor else actor_name)[:80], at=at or utcnow(),
                          details=json.dumps(details, ensure_ascii=False, default=str))
    session.add(row)
    return row


# --- Finding a term -------------------------------------------------------------------------------

def fold_key(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: 'Co-opétition!' and 'co opetition' compare equal."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    kept = "".join(ch if unicodedata.category(ch)[0] in "LN" else " "
                   for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.split())


def slug(text: str) -> str:
    return re.sub(r"\s+", "_", fold_key(text))[:60] or "term"


@dataclass
class Found:
    """A lookup's outcome: the term when sure, else the nearest candidates (best first)."""

    term_id: int | None
    candidates: list[int]
    lang: str = ""  # the language of the name or alias that matched


class GlossaryVersion(SQLModel, table=True):
    """How often a scope's names changed (scope 0: the global glossary, else a cluster's own entries).

    Every process keeps its lookup index in memory and compares this counter, one primary-key read,
    before each lookup: a change committed by any process is seen by the next lookup of every other.
    """

    __tablename__ = "glossary_versions"
    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    generation: int = 0


GLOBAL_SCOPE = 0
_CHANGED = "glossary_changed_scopes"  # Session.info key: the scopes this transaction wrote


def _note_change(_mapper, connection, target) -> None:
    """A row that shapes lookups was written: its scope's counter goes up when the transaction commits."""
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add(target.cluster_id or GLOBAL_SCOPE)


def _bump_versions(session: Session) -> None:
    """Before the outermost commit: one increment per scope written, in scope order (no lock cycles)."""
    if session.get_nested_transaction() is not None or not (session.new or session.dirty or session.deleted
                                                             or session.info.get(_CHANGED)):
        return
    session.flush()
    scopes = sorted(session.info.pop(_CHANGED, ()))
    if not scopes:
        return
    table = GlossaryVersion.__table__
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(table).values([{"scope": s, "generation": 1} for s in scopes])
    session.connection().execute(stmt.on_conflict_do_update(
        index_elements=[table.c.scope], set_={"generation": table.c.generation + 1}))


def _forget_changes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


for _model in (GlossaryTerm, GlossaryEntry):
    for _event in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _event, _note_change)
event.listen(Session, "before_commit", _bump_versions)
event.listen(Session, "after_transaction_end", _forget_changes)


def _keys(entry_name: str, aliases: Iterable[str]) -> set[str]:
    keys = set()
    for word in (entry_name, *aliases):
        folded = fold_key(word)
        if folded:
            keys.update({folded, folded.replace(" ", "")})
    return keys


@dataclass(frozen=True)
class _Names:
    """One scope's folded names and aliases, arranged for the three ways a lookup matches them."""

    owner: dict[str, tuple[int, str]]  # folded name or alias -> (term id, language)
    keys: list[str]  # the same keys, the list rapidfuzz scans
    ordered: list[str]  # sorted, for "the key starts with the query"
    by_word: dict[str, list[str]]  # a word -> the keys that hold it

    @classmethod
    def build(cls, rows: Iterable[tuple[int, str, str, str]], *, first_wins: bool) -> _Names:
        owner: dict[str, tuple[int, str]] = {}
        for term_id, lang, name, aliases in rows:
            for key in _keys(name, aliases.split("|")):
                if first_wins:
                    owner.setdefault(key, (term_id, lang))
                else:
                    owner[key] = (term_id, lang)
        by_word: dict[str, list[str]] = {}
        for key in owner:
            for word in set(key.split()):
                by_word.setdefault(word, []).append(key)
        return cls(owner, list(owner), sorted(owner), by_word)

    def fuzzy(self, query: str) -> Iterator[tuple[str, float]]:
        """(key, score) for every key near enough to the query to be suggested; a key may come twice."""
        long_query = len(query) >= 4
        for key, ratio, _i in process.extract(query, self.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF,
                                              limit=None):
            score = ratio / 100
            if len(key) <= 4 and score < 0.75:  # "pole" is not a typo of "triple"
                continue
            if score < 0.65 and _shared_letters(query, key) < 0.65:  # a weak match of letters in any order
                continue
            if score >= 0.6 and long_query and abs(len(key) - len(query)) <= 2:
                limit = 2 if len(query) >= 7 else 1
                distance = Levenshtein.distance(query, key, score_cutoff=limit)
                if distance <= limit:  # a missed, swapped or wrong letter or two
                    score = max(score, 0.9 - 0.02 * distance)
            yield key, score
        if long_query:
            for word in set(query.split()):
                for key in self.by_word.get(word, ()):
                    yield key, WORD_SCORE
            for i in range(bisect_left(self.ordered, query), len(self.ordered)):
                if not self.ordered[i].startswith(query):
                    break
                yield self.ordered[i], WORD_SCORE

    def holding_words(self, words: set[str]) -> list[str]:
        """The keys that hold every one of these words as a whole word."""
        found: set[str] | None = None
        for word in words:
            keys = set(self.by_word.get(word, ()))
            found = keys if found is None else found & keys
            if not found:
                return []
        return sorted(found or ())


FUZZY_CUTOFF = 55  # rapidfuzz's 0-100 scale: below this a key is not even a candidate
WORD_SCORE = 0.85  # the query shares a whole word with the key, or the key starts with it
WHOLE_WORDS_SCORE = 0.95  # every word of the query is a word of this term's names, and of no other term's


class GlossaryIndex:
    """Every name and alias a lookup can match, built once per process and rebuilt when a term changes.

    Held beside the database engine (the web app, the Telegram poller, the terminal chat) and handed to
    handlers in their Ctx. The global glossary is one layer, each cluster's own entries another, each
    stamped with the counters (GlossaryVersion) it was built at: a lookup reads the counters (one
    indexed query) and rebuilds a layer whose counter moved, so no process answers from names another
    process has changed. A transaction that itself wrote glossary rows searches a throwaway index of
    what it sees, never cached: its changes are not committed, and may never be.
    """

    def __init__(self) -> None:
        self._layers: dict[tuple[str, int], tuple[tuple[int, ...], _Names]] = {}
        self._lock = threading.Lock()

    def find(self, session: Session, text: str, cluster_id: int | None) -> Found:
        """The term named by `text` in any language, forgiving typos; candidates when not sure."""
        query = fold_key(text)
        if not query:
            return Found(None, [])
        return _match(query, self._layers_for(session, cluster_id))

    def _layers_for(self, session: Session, cluster_id: int | None) -> list[_Names]:
        """The cluster's own names first (they win), then the global glossary's."""
        scopes = (GLOBAL_SCOPE,) if cluster_id is None else (GLOBAL_SCOPE, cluster_id)
        generations = dict(session.exec(select(GlossaryVersion.scope, GlossaryVersion.generation)
                                        .where(GlossaryVersion.scope.in_(scopes))).all())
        stamp = tuple(generations.get(s, 0) for s in scopes)
        cacheable = not session.info.get(_CHANGED)  # read after the query above, which flushed the session
        url = str(session.get_bind().url)
        layers = [self._layer(session, (url, GLOBAL_SCOPE), stamp[:1], None, cacheable)]
        if cluster_id is not None:
            layers.insert(0, self._layer(session, (url, cluster_id), stamp, cluster_id, cacheable))
        return layers

    def _layer(self, session: Session, key: tuple[str, int], stamp: tuple[int, ...], cluster_id: int | None,
               cacheable: bool) -> _Names:
        cached = self._layers.get(key) if cacheable else None
        if cached is not None and cached[0] == stamp:
            return cached[1]
        names = _Names.build(session.exec(_layer_rows(cluster_id)), first_wins=cluster_id is None)
        if cacheable:
            with self._lock:
                self._layers[key] = (stamp, names)
        return names


def _layer_rows(cluster_id: int | None):
    columns = (GlossaryEntry.term_id, GlossaryEntry.lang, GlossaryEntry.name, GlossaryEntry.aliases)
    stmt = select(*columns).join(GlossaryTerm, GlossaryTerm.id == GlossaryEntry.term_id).where(
        GlossaryTerm.status != "proposed")
    if cluster_id is None:
        stmt = stmt.where(GlossaryEntry.cluster_id == None, GlossaryTerm.cluster_id == None)  # noqa: E711
    else:
        stmt = stmt.where(GlossaryEntry.cluster_id == cluster_id)
    return stmt.order_by(GlossaryEntry.id)


def _shared_letters(a: str, b: str) -> float:
    """How many letters two words share, in any order (difflib's quick_ratio): an upper bound of their ratio."""
    return 2 * sum((Counter(a) & Counter(b)).values()) / (len(a) + len(b))


def _match(query: str, layers: list[_Names]) -> Found:
    """An exact name or alias in any language; else the nearest names, where a query whose words are
    all whole words of one term's names (`DEF coopérative`) ranks that term above any typo's neighbour."""

    def owner(key: str, depth: int) -> tuple[int, str] | None:
        """Who a key of layer `depth` names, unless a layer before it names it too (and wins)."""
        if any(key in layer.owner for layer in layers[:depth]):
            return None
        return layers[depth].owner[key]

    for key in (query, query.replace(" ", "")):
        for layer in layers:
            if key in layer.owner:
                term_id, lang = layer.owner[key]
                return Found(term_id, [term_id], lang)
    best: dict[int, float] = {}
    langs: dict[int, str] = {}
    for depth, layer in enumerate(layers):
        for key, score in layer.fuzzy(query):
            found = owner(key, depth)
            if found is not None and score > best.get(found[0], 0.0):
                best[found[0]], langs[found[0]] = score, found[1]
    if len(query) >= 4:  # every word of the query, spelled right, in the names of one term only
        holders = [(fuzz.ratio(query, key), *found) for depth, layer in enumerate(layers)
                   for key in layer.holding_words(set(query.split())) if (found := owner(key, depth))]
        if holders and len({term_id for _r, term_id, _l in holders}) == 1:
            _ratio, term_id, lang = max(holders)
            best[term_id], langs[term_id] = max(WHOLE_WORDS_SCORE, best.get(term_id, 0.0)), lang
    ranked = sorted(((s, t) for t, s in best.items() if s >= 0.55), reverse=True)
    if not ranked:
        return Found(None, [])
    top_score, top = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    if top_score >= 0.8 and top_score - runner_up >= 0.08:
        return Found(top, [top], langs[top])
    return Found(None, [t for _s, t in ranked[:3]], langs[top])


def find(session: Session, text: str, cluster_id: int | None, index: GlossaryIndex | None = None) -> Found:
    """A lookup with the caller's index; without one, an index built for this lookup alone."""
    return (index or GlossaryIndex()).find(session, text, cluster_id)


def entry_for(session: Session, term_id: int, cluster_id: int | None, lang: str) -> GlossaryEntry | None:
    """The wording a reader sees: the cluster's own in their language, else global, else English."""
    rows = session.exec(select(GlossaryEntry).where(GlossaryEntry.term_id == term_id)).all()

    def rank(entry: GlossaryEntry) -> tuple[int, int, int]:
        own = entry.cluster_id is not None and entry.cluster_id == cluster_id
        return (entry.lang == lang, entry.lang == "en", own)

    visible = [e for e in rows if e.cluster_id is None or e.cluster_id == cluster_id]
    return max(visible, key=rank) if visible else None


def topic_terms(session: Session, topic: str, cluster_id: int | None) -> list[GlossaryTerm]:
    return list(session.exec(select(GlossaryTerm).where(
        GlossaryTerm.topic == topic, GlossaryTerm.status != "proposed",
        (GlossaryTerm.cluster_id == None) | (GlossaryTerm.cluster_id == cluster_id))  # noqa: E711
        .order_by(GlossaryTerm.id)))


# --- Editing --------------------------------------------------------------------------------------

def upsert_entry(session: Session, term: GlossaryTerm, cluster_id: int | None, lang: str, *, name: str,
                 short: str, long: str = "", aliases: Iterable[str] = (), source: str = "facilitator",
                 now: datetime | None = None) -> tuple[GlossaryEntry, bool]:
    """Create or replace one language's wording of a term at one scope; True when it is new."""
    if lang not in LANGUAGES:
        raise GlossaryError("bad_language", lang)
    name, short, long = name.strip(), short.strip(), long.strip()
    if not 1 <= len(name) <= NAME_LIMIT:
        raise GlossaryError("bad_name", name)
    if len(short) > SHORT_LIMIT or len(long) > LONG_LIMIT:
        raise GlossaryError("too_long")
    entry = session.exec(select(GlossaryEntry).where(
        GlossaryEntry.term_id == term.id, GlossaryEntry.lang == lang,
        GlossaryEntry.cluster_id == cluster_id if cluster_id else GlossaryEntry.cluster_id == None)  # noqa: E711
    ).first()
    created = entry is None
    if entry is None:
        entry = GlossaryEntry(term_id=term.id, cluster_id=cluster_id, lang=lang, name=name)
    entry.name, entry.short, entry.long, entry.source = name, short, long, source
    entry.aliases = "|".join(dict.fromkeys(a.strip() for a in aliases if a.strip() and a.strip() != name))[:300]
    entry.updated_at = now or utcnow()
    session.add(entry)
    session.flush()
    return entry, created


def new_term(session: Session, name: str, cluster_id: int | None, *, topic: str = "local",
             status: str = "approved", now: datetime | None = None) -> GlossaryTerm:
    term = GlossaryTerm(key=slug(name), cluster_id=cluster_id, topic=topic, status=status,
                        created_at=now or utcnow())
    session.add(term)
    session.flush()
    return term


def define(session: Session, cluster: Cluster, actor: Member, term_id: int | None, name: str, lang: str,
           short: str, long: str, now: datetime) -> GlossaryEntry:
    """A facilitator's wording for their own cluster: it never changes the global glossary."""
    term = session.get(GlossaryTerm, term_id) if term_id else None
    if term is None:
        term = new_term(session, name, cluster.id, now=now)
    elif term.status == "proposed":
        term.status = "approved"
        session.add(term)
    current = entry_for(session, term.id, cluster.id, lang)
    aliases = current.alias_list if current and current.lang == lang else []
    entry, created = upsert_entry(session, term, cluster.id, lang, name=name, short=short, long=long,
                                  aliases=aliases, now=now)
    record(session, "add" if created else "edit", cluster_id=cluster.id, term_id=term.id, actor=actor, at=now,
           lang=lang, name=name, short=short, long=long)
    return entry


# --- Proposals and votes --------------------------------------------------------------------------

def settings_for(session: Session, cluster_id: int) -> GlossarySettings:
    row = session.exec(select(GlossarySettings).where(GlossarySettings.cluster_id == cluster_id)).first()
    if row is None:
        row = GlossarySettings(cluster_id=cluster_id)
        session.add(row)
        session.flush()
    return row


def open_ballot_for(session: Session, cluster_id: int, term_id: int) -> GlossaryBallot | None:
    return session.exec(select(GlossaryBallot).where(GlossaryBallot.cluster_id == cluster_id,
                                                     GlossaryBallot.term_id == term_id,
                                                     GlossaryBallot.status == "open")).first()


def clean_word(word: str) -> str:
    word = " ".join((word or "").split()).strip(" .,;:!?\"'")
    if not word or not any(ch.isalpha() for ch in word):
        raise GlossaryError("empty")
    if len(word) > WORD_LIMIT:
        raise GlossaryError("too_long", word)
    return word


def propose(session: Session, cluster: Cluster, member: Member, term_id: int | None, term_text: str,
            word: str, lang: str, now: datetime) -> tuple[GlossaryProposal, GlossaryTerm, int]:
    """Record a member's local word for a term the cluster knows (global, or its own).

    A term nobody defined is not created here: members ask for it (request_term) and a facilitator
    decides whether it enters the glossary. Returns the proposal, the term and how many distinct words
    the term now has in this cluster.
    """
    word = clean_word(word)
    term = session.get(GlossaryTerm, term_id) if term_id else None
    if term is None or term.cluster_id not in (None, cluster.id):
        raise GlossaryError("unknown_term", term_text)
    if open_ballot_for(session, cluster.id, term.id):
        raise GlossaryError("vote_open")
    key = fold_key(word)[:40]
    if session.exec(select(GlossaryProposal.id).where(
            GlossaryProposal.term_id == term.id, GlossaryProposal.cluster_id == cluster.id,
            GlossaryProposal.member_id == member.id, GlossaryProposal.word_key == key)).first():
        raise GlossaryError("duplicate", word)
    proposal = GlossaryProposal(cluster_id=cluster.id, term_id=term.id, member_id=member.id, word=word,
                                word_key=key, lang=lang, created_at=now)
    session.add(proposal)
    session.flush()
    record(session, "propose", cluster_id=cluster.id, term_id=term.id, actor=member, at=now, word=word)
    return proposal, term, len(proposed_words(session, cluster.id, term.id))


def request_term(session: Session, cluster: Cluster, member: Member, term_text: str, word: str,
                 now: datetime) -> tuple[str, str]:
    """A member asks for a term the glossary lacks, with their word for it: kept in the history for the
    facilitators, nothing added to the glossary. Returns the term and the word as cleaned."""
    word = clean_word(word)
    name = " ".join(term_text.split())
    if not 2 <= len(name) <= NAME_LIMIT:
        raise GlossaryError("bad_name", name)
    record(session, "request", cluster_id=cluster.id, term_id=None, actor=member, at=now, term=name, word=word)
    return name, word


def proposed_words(session: Session, cluster_id: int, term_id: int) -> list[tuple[str, list[int]]]:
    """Distinct words proposed for a term, most supported first: (word as first written, member ids)."""
    groups: dict[str, tuple[str, list[int]]] = {}
    for p in session.exec(select(GlossaryProposal).where(GlossaryProposal.cluster_id == cluster_id,
                                                         GlossaryProposal.term_id == term_id)
                          .order_by(GlossaryProposal.id)):
        groups.setdefault(p.word_key, (p.word, []))[1].append(p.member_id)
    order = list(groups)
    return sorted(groups.values(), key=lambda g: (-len(g[1]), order.index(fold_key(g[0])[:40])))


def open_ballot(session: Session, cluster: Cluster, term: GlossaryTerm, actor: Member, now: datetime,
                days: int | None = None, fits: Callable[[list[str]], bool] = lambda _w: True) -> GlossaryBallot:
    """Put the proposed words (most supported first, as many as `fits` the vote message) to a vote."""
    if open_ballot_for(session, cluster.id, term.id):
        raise GlossaryError("already_open")
    words = [w for w, _m in proposed_words(session, cluster.id, term.id)][:MAX_OPTIONS]
    while len(words) > 1 and not fits(words):
        words.pop()
    if not words:
        raise GlossaryError("no_proposals")
    rule = settings_for(session, cluster.id)
    days = days if days and 1 <= days <= 60 else rule.vote_days
    ballot = GlossaryBallot(cluster_id=cluster.id, term_id=term.id, lang=cluster.language, opened_by=actor.id,
                            opened_at=now, closes_at=now + timedelta(days=days),
                            options=json.dumps(words, ensure_ascii=False))
    session.add(ballot)
    session.flush()
    record(session, "vote_open", cluster_id=cluster.id, term_id=term.id, actor=actor, at=now, ballot=ballot.id,
           options=words, closes_at=ballot.closes_at.isoformat())
    return ballot


def active_count(session: Session, cluster_id: int) -> int:
    return session.exec(select(func.count()).select_from(Member).where(
        Member.cluster_id == cluster_id, Member.status == "active")).one()


def cast(session: Session, ballot_id: int, member: Member, choice: int, now: datetime) -> tuple[GlossaryVote, bool]:
    """One vote per member per ballot; a different choice replaces the earlier one (then True)."""
    ballot = lock_row(session, GlossaryBallot, ballot_id)
    if ballot is None or ballot.cluster_id != member.cluster_id:
        raise GlossaryError("no_ballot")
    if ballot.status != "open" or now >= ballot.closes_at:
        raise GlossaryError("closed")
    if not 1 <= choice <= len(ballot.words):
        raise GlossaryError("bad_choice")
    vote = session.exec(select(GlossaryVote).where(GlossaryVote.ballot_id == ballot.id,
                                                   GlossaryVote.member_id == member.id)).first()
    if vote is not None and vote.choice == choice:
        raise GlossaryError("same")
    changed = vote is not None
    if vote is None:
        vote = GlossaryVote(ballot_id=ballot.id, member_id=member.id, choice=choice, voted_at=now)
    vote.choice, vote.voted_at = choice, now
    session.add(vote)
    session.flush()
    return vote, changed


def counts(session: Session, ballot: GlossaryBallot) -> list[int]:
    tally = [0] * len(ballot.words)
    for choice in session.exec(select(GlossaryVote.choice).where(GlossaryVote.ballot_id == ballot.id)):
        tally[choice - 1] += 1
    return tally


def voters(session: Session, ballot: GlossaryBallot) -> list[Member]:
    return list(session.exec(select(Member).join(GlossaryVote, GlossaryVote.member_id == Member.id)
                             .where(GlossaryVote.ballot_id == ballot.id).order_by(Member.id)))


def outcome(tally: list[int], rule: GlossarySettings, active: int, final: bool) -> tuple[str, int | None]:
    """('adopted', index), ('tie'|'no_quorum'|'no_majority', None), or ('open', None) while undecided.

    Before the close only an absolute majority of active members decides; at the close the cluster's
    minimum number of votes and a majority of the votes cast (or the most votes, under plurality) do.
    """
    total = sum(tally)
    ranked = sorted(range(len(tally)), key=lambda i: -tally[i])
    top = ranked[0]
    tied = len(ranked) > 1 and tally[ranked[1]] == tally[top]
    if not final:
        return ("adopted", top) if rule.early_majority and tally[top] * 2 > active else ("open", None)
    if total < rule.min_votes:
        return "no_quorum", None
    if tied:
        return "tie", None
    if not rule.plurality and tally[top] * 2 <= total:
        return "no_majority", None
    return "adopted", top


def decide(session: Session, ballot_id: int, now: datetime, *, final: bool) -> GlossaryBallot | None:
    """Close a ballot when its rule is met (or at its close time): returns it when it was just decided."""
    ballot = lock_row(session, GlossaryBallot, ballot_id)
    if ballot is None or ballot.status != "open":
        return None
    rule = settings_for(session, ballot.cluster_id)
    tally = counts(session, ballot)
    status, winner = outcome(tally, rule, active_count(session, ballot.cluster_id), final)
    if status == "open":
        return None
    ballot.status, ballot.closed_at, ballot.tally = status, now, json.dumps(tally)
    if winner is not None:
        ballot.winner = ballot.words[winner]
        adopt(session, ballot, now)
    session.add(ballot)
    proposers = {word: [session.get(Member, m).number for m in ids]
                 for word, ids in proposed_words(session, ballot.cluster_id, ballot.term_id)}
    record(session, "adopt" if winner is not None else status, cluster_id=ballot.cluster_id,
           term_id=ballot.term_id, actor_name="rule", at=now, ballot=ballot.id, winner=ballot.winner,
           tally=dict(zip(ballot.words, tally, strict=True)), proposed_by=proposers)
    return ballot


def adopt(session: Session, ballot: GlossaryBallot, now: datetime) -> GlossaryEntry:
    """The winning word becomes the cluster's name for the term in the ballot's language."""
    term = session.get(GlossaryTerm, ballot.term_id)
    if term.status == "proposed":
        term.status = "approved"
        session.add(term)
    base = entry_for(session, term.id, None, ballot.lang) if term.cluster_id is None else \
        entry_for(session, term.id, ballot.cluster_id, ballot.lang)
    old_names = [base.name, *base.alias_list] if base else []
    short, long = (base.short, base.long) if base and base.lang == ballot.lang else ("", "")
    entry, _created = upsert_entry(session, term, ballot.cluster_id, ballot.lang, name=ballot.winner,
                                   short=short, long=long, aliases=old_names, source="vote", now=now)
    return entry


def adopted_word(session: Session, cluster_id: int | None, term_id: int) -> str:
    """The word a cluster adopted by vote for a term (its latest adoption), or "" when it adopted none."""
    if cluster_id is None:
        return ""
    return session.exec(select(GlossaryBallot.winner).where(
        GlossaryBallot.cluster_id == cluster_id, GlossaryBallot.term_id == term_id,
        GlossaryBallot.status == "adopted").order_by(GlossaryBallot.closed_at.desc(), GlossaryBallot.id.desc())
    ).first() or ""


def own_name(session: Session, entry: GlossaryEntry, word: str) -> str:
    """The name the entry's language gives the term, beside a word the cluster adopted.

    A vote renames the cluster's entry in the ballot's language (so the word is looked up as a name);
    that language's own name is then the global entry's, or for a cluster's own term the name it had
    before the vote (adopt keeps it first among the aliases).
    """
    if fold_key(entry.name) != fold_key(word):
        return entry.name
    if entry.cluster_id is not None:
        shipped = session.exec(select(GlossaryEntry.name).where(
            GlossaryEntry.term_id == entry.term_id, GlossaryEntry.cluster_id == None,  # noqa: E711
            GlossaryEntry.lang == entry.lang)).first()
        if shipped:
            return shipped
    return next((a for a in entry.alias_list if fold_key(a) != fold_key(word)), entry.name)


def due_ballots(session: Session, now: datetime) -> list[int]:
    return list(session.exec(select(GlossaryBallot.id).where(GlossaryBallot.status == "open",
                                                             GlossaryBallot.closes_at <= now)))


def open_ballots(session: Session, cluster_id: int) -> list[GlossaryBallot]:
    return list(session.exec(select(GlossaryBallot).where(GlossaryBallot.cluster_id == cluster_id,
                                                          GlossaryBallot.status == "open")
                             .order_by(GlossaryBallot.id)))


# --- Term of the week -----------------------------------------------------------------------------

def week_number(moment: datetime, tz: str) -> int:
    """The week a moment falls in, in the cluster's timezone, as the term of the week counts weeks."""
    year, week, _day = moment.astimezone(ZoneInfo(tz)).isocalendar()
    return year * 53 + week


def weekly_term(session: Session, cluster_id: int, week_number: int) -> int | None:
    """The term for a week: the glossary in a fixed order, one a week, round and round."""
    ids = list(session.exec(select(GlossaryTerm.id).where(
        GlossaryTerm.status != "proposed",
        (GlossaryTerm.cluster_id == None) | (GlossaryTerm.cluster_id == cluster_id))  # noqa: E711
        .order_by(GlossaryTerm.id)))
    return ids[week_number % len(ids)] if ids else None


def weekly_clusters(session: Session) -> list[tuple[Cluster, GlossarySettings]]:
    return list(session.exec(select(Cluster, GlossarySettings).join(
        GlossarySettings, GlossarySettings.cluster_id == Cluster.id).where(
        GlossarySettings.weekly_day != None)))  # noqa: E711


# --- Import and export ----------------------------------------------------------------------------

def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(fh)]


def import_rows(session: Session, rows: list[dict[str, str]], *, cluster: Cluster | None,
                check: Callable[[dict[str, str]], str | None], actor: str = "import",
                now: datetime | None = None) -> tuple[int, list[tuple[int, str]]]:
    """Create or replace entries, one row per term and language; a failing row is reported, not stored.

    A row's `cluster` column names the cluster that owns it (blank: global); `cluster` given here puts
    every row in that cluster instead. `check` applies the SMS budget, which storage does not know.
    """
    now = now or utcnow()
    stored, errors = 0, []
    for number, row in enumerate(rows, start=2):
        owner = cluster
        if owner is None and row.get("cluster"):
            owner = find_by_code(session, row["cluster"])
            if owner is None:
                errors.append((number, f"no cluster with code {row['cluster']}"))
                continue
        problem = _row_problem(row) or check(row)
        if problem:
            errors.append((number, problem))
            continue
        key = slug(row.get("key") or row["name"])
        term = session.exec(select(GlossaryTerm).where(
            GlossaryTerm.key == key,
            (GlossaryTerm.cluster_id == None) | (GlossaryTerm.cluster_id == (owner.id if owner else -1)))  # noqa: E711
            .order_by(GlossaryTerm.cluster_id.is_not(None))).first()
        if term is None:
            term = new_term(session, key, owner.id if owner else None, topic=row.get("topic") or "local",
                            status=row.get("status") or "approved", now=now)
        elif owner is None and row.get("topic"):
            term.topic = row["topic"]
            session.add(term)
        upsert_entry(session, term, owner.id if owner else None, row["lang"], name=row["name"],
                     short=row.get("short", ""), long=row.get("long", ""), source="import",
                     aliases=row.get("aliases", "").split("|"), now=now)
        stored += 1
    if stored:
        record(session, "import", cluster_id=cluster.id if cluster else None, term_id=None, actor_name=actor,
               at=now, rows=stored, rejected=len(errors))
    return stored, errors


def _row_problem(row: dict[str, str]) -> str | None:
    if row.get("lang") not in LANGUAGES:
        return f"lang '{row.get('lang', '')}' is not one of {', '.join(LANGUAGES)}"
    if not 1 <= len(row.get("name", "")) <= NAME_LIMIT:
        return f"name is missing or longer than {NAME_LIMIT} characters"
    if not row.get("short"):
        return "short definition is missing"
    if row.get("status", "approved") not in ("", *TERM_STATUSES):
        return f"status '{row['status']}' is not one of {', '.join(TERM_STATUSES)}"
    return None


def glossary_rows(session: Session, cluster: Cluster | None):
    """One row per term and language: the global glossary, then the cluster's own entries."""
    scope = GlossaryEntry.cluster_id == None  # noqa: E711
    if cluster is not None:
        scope = scope | (GlossaryEntry.cluster_id == cluster.id)
    codes = {c.id: c.code for c in session.exec(select(Cluster))}

    def rows():
        for entry, term in session.exec(select(GlossaryEntry, GlossaryTerm).join(
                GlossaryTerm, GlossaryTerm.id == GlossaryEntry.term_id).where(scope)
                .order_by(GlossaryEntry.cluster_id.is_not(None), GlossaryTerm.id, GlossaryEntry.id)):
            yield [term.key, codes.get(entry.cluster_id, ""), term.topic, entry.lang, entry.name,
                   entry.aliases, entry.short, entry.long, term.status]

    return list(CSV_COLUMNS), rows()


EXPORTS = {"glossary": glossary_rows}
