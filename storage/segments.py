"""Choosing members by segment: who an invitation, broadcast, purchase or poll goes to.

A segment is written as space-separated `key:value` terms, for example `sector:tailoring location:Moshi`:

    all                 every active member (also `wote`, `tous`, `ሁሉም`)
    sector:X            members whose sector is X
    location:Y          members whose location is Y
    gender:F / gender:M women / men (female, male, other and their Swahili and French words work too)
    role:academia       firm, government, academia or support
    event:ID            members who said YES to event ID or checked in at it

Different keys narrow the selection (AND); a key given twice, or values separated by commas
(`sector:tailoring,leather`), widen it (OR). A value may hold spaces (`location:Moshi Town`).
Comparison ignores case and accents. Only active members are ever selected.

API: `parse_segment(text) -> Segment` (raises SegmentError with a `code`), `select_members(session, cluster,
segment) -> list[Member]`, `count_members(...)`, and `describe(segment)`, the canonical text, which
`parse_segment` reads back (store it to remember whom something went to).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import column, table
from sqlmodel import Session, select

from storage.clusters import Cluster
from storage.members import GENDER_WORDS, ROLE_WORDS, Member

KEY_ALIASES = {
    "sector": ("sector", "sekta", "secteur", "ዘርፍ"),
    "location": ("location", "place", "town", "mahali", "eneo", "lieu", "ville", "ቦታ"),
    "gender": ("gender", "sex", "jinsia", "genre", "sexe", "ጾታ"),
    "role": ("role", "aina", "jukumu", "categorie", "ሚና"),
    "event": ("event", "tukio", "evenement", "ዝግጅት"),
}
ALL_WORDS = ("all", "everyone", "wote", "kila", "tous", "tout", "ሁሉም")
ORDER = ("sector", "location", "gender", "role", "event")


class SegmentError(ValueError):
    """The segment text cannot be read; `code` names why and `detail` the offending part.

    Codes: empty, unknown_key, missing_value, bad_gender, bad_role, bad_event, unknown_event.
    """

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Segment:
    """Each field is a tuple of accepted values; an empty tuple places no condition."""

    sector: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    gender: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    event: tuple[int, ...] = field(default=())

    @property
    def is_all(self) -> bool:
        return not any(getattr(self, key) for key in ORDER)


def _fold(text: str) -> str:
    """Lower case without accents and with single spaces, as the bot's keyword matching does."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def _key(word: str) -> str | None:
    folded = _fold(word)
    return next((key for key, names in KEY_ALIASES.items() if folded in names), None)


def _canonical(value: str, words: dict[str, tuple[str, ...]]) -> str | None:
    folded = _fold(value)
    return next((key for key, options in words.items() if folded == key or folded in options), None)


def _value(key: str, raw: str) -> str | int:
    raw = raw.strip(" ,")
    if key == "gender":
        found = _canonical(raw, GENDER_WORDS)
        if found is None:
            raise SegmentError("bad_gender", raw)
        return found
    if key == "role":
        found = _canonical(raw, ROLE_WORDS)
        if found is None:
            raise SegmentError("bad_role", raw)
        return found
    if key == "event":
        digits = raw.lstrip("#")
        if not digits.isdecimal() or len(digits) > 9:
            raise SegmentError("bad_event", raw)
        return int(digits)
    return " ".join(raw.split())


def parse_segment(text: str) -> Segment:
    """Read a segment as a facilitator writes it; SegmentError says what is wrong, nothing is guessed."""
    words = (text or "").split()
    if not words:
        raise SegmentError("empty")
    if len(words) == 1 and _fold(words[0]) in ALL_WORDS:
        return Segment()
    terms: list[list[str]] = []
    for word in words:
        name, sep, rest = word.partition(":")
        if sep:
            key = _key(name)
            if key is None:
                raise SegmentError("unknown_key", name[:20])
            terms.append([key, rest])
        elif terms:
            terms[-1][1] = f"{terms[-1][1]} {word}"
        elif _fold(word) in ALL_WORDS:
            continue
        else:
            raise SegmentError("unknown_key", word[:20])
    values: dict[str, list] = {key: [] for key in ORDER}
    for key, raw in terms:
        parts = [p for p in raw.split(",") if p.strip()]
        if not parts:
            raise SegmentError("missing_value", key)
        for part in parts:
            value = _value(key, part)
            if value not in values[key]:
                values[key].append(value)
    return Segment(**{key: tuple(found) for key, found in values.items()})


def describe(segment: Segment) -> str:
    """The canonical text of a segment: `all`, or its terms in a fixed order; parse_segment reads it back."""
    if segment.is_all:
        return "all"
    return " ".join(f"{key}:{','.join(str(v) for v in getattr(segment, key))}"
                    for key in ORDER if getattr(segment, key))


def _event_members(session: Session, cluster: Cluster, event_ids: tuple[int, ...]) -> set[int]:
    """Members who took part in earlier events."""
    found: set[int] = set()
    for event_id in event_ids:
        ids = participant_ids(session, cluster.id, event_id)
        if ids is None:
            raise SegmentError("unknown_event", str(event_id))
        found |= ids
    return found


def select_members(session: Session, cluster: Cluster, segment: Segment) -> list[Member]:
    """The active members of one cluster a segment reaches, by member id.

    Sector and location are matched in Python so that accents and case never split a group
    ('Thiès' and 'thies' are one town); a cluster's members fit comfortably in memory.
    """
    members = session.exec(select(Member).where(Member.cluster_id == cluster.id, Member.status == "active")
                           .order_by(Member.id)).all()
    allowed = _event_members(session, cluster, segment.event) if segment.event else None
    sectors = {_fold(v) for v in segment.sector}
    locations = {_fold(v) for v in segment.location}
    return [m for m in members
            if (not sectors or _fold(m.sector) in sectors)
            and (not locations or _fold(m.location) in locations)
            and (not segment.gender or m.gender in segment.gender)
            and (not segment.role or m.role in segment.role)
            and (allowed is None or m.id in allowed)]


def count_members(session: Session, cluster: Cluster, segment: Segment) -> int:
    return len(select_members(session, cluster, segment))


# The events' tables by name: storage.events builds on segments (it invites one), so segments cannot
# import its models without a cycle; these three columns are all `event:ID` needs.
_EVENTS = table("events", column("id"), column("cluster_id"))
_INVITATIONS = table("event_invitations", column("event_id"), column("member_id"), column("state"))
_CHECKINS = table("event_checkins", column("event_id"), column("member_id"))


def participant_ids(session: Session, cluster_id: int, event_id: int) -> set[int] | None:
    """Members who took part in an event (said YES or checked in); None when there is no such event."""
    owner = session.exec(select(_EVENTS.c.cluster_id).where(_EVENTS.c.id == event_id)).first()
    if owner != cluster_id:
        return None
    said_yes = session.exec(select(_INVITATIONS.c.member_id).where(
        _INVITATIONS.c.event_id == event_id, _INVITATIONS.c.state == "yes")).all()
    came = session.exec(select(_CHECKINS.c.member_id).where(_CHECKINS.c.event_id == event_id)).all()
    return set(said_yes) | set(came)
