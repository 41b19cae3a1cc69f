"""Members, the addresses they write from, and the rules of joining a cluster."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

import phonenumbers
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, func, or_, select

from storage import audit
from storage.clusters import Cluster
from storage.db import insert_new, lock_row, utcnow

LANGUAGES = ("en", "sw", "fr", "am")
GENDERS = ("female", "male", "other")
ROLES = ("firm", "government", "academia", "support")
STATUSES = ("pending", "active", "rejected", "left")
ADMIN_ROLES = ("member", "facilitator", "treasurer")


class Member(SQLModel, table=True):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("cluster_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    number: str = Field(max_length=32, index=True)
    name: str = Field(default="", max_length=80)
    business: str = Field(default="", max_length=80)
    sector: str = Field(default="", max_length=60, index=True)
    location: str = Field(default="", max_length=60, index=True)
    gender: str = Field(default="", max_length=10)
    role: str = Field(default="", max_length=12)
    language: str = Field(default="en", max_length=5)
    status: str = Field(default="pending", max_length=10, index=True)
    admin_role: str = Field(default="member", max_length=12)
    committed_at: datetime | None = None  # the facilitator's mark (COMMITTED): counts for 12 months from then
    opted_out: bool = False
    phone: str = Field(default="", max_length=20, index=True)
    joined_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.admin_role in ("facilitator", "treasurer")


class Identity(SQLModel, table=True):
    """One address (an E.164 phone on SMS, a chat id on Telegram); several may belong to one member."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=12)
    address: str = Field(max_length=64)
    member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    language: str = Field(default="", max_length=5)
    opted_out: bool = False  # the provider cannot deliver here (carrier opt-out, blocked bot); writing lifts it
    opt_out_reason: str = Field(default="", max_length=120)
    stopped: bool = False  # the person sent STOP from here; only START lifts it (see UNSOLICITED)
    last_seen_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


class MemberError(ValueError):
    """A membership rule refused the change; `code` names the rule for the handler's wording."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_PHONE_CHARS = re.compile(r"[0-9+()./ -]+", re.ASCII)


@lru_cache(maxsize=16384)  # pure; every webhook reads its sender with it (phonenumbers: ~0.1 ms a number)
def normalise_phone(raw: str | None, region: str) -> str | None:
    """The E.164 form of a phone number written any usual way (0712 000 006, +255 712-000-006,
    (0712) 000.006, 255712000006, 00255...), or None when it is not a valid number.

    The one reading of a phone number: bot.parse.phone, the channels, the CLI and the dashboard use it.
    """
    text = " ".join((raw or "").translate(_SPACES).split())
    if not text or len(text) > 32 or not _PHONE_CHARS.fullmatch(text) or text.count("+") > 1:
        return None
    digits = re.sub(r"[^0-9]", "", text)
    tries = ["+" + digits[2:]] if digits.startswith("00") else [text]
    if not text.startswith("+") and not digits.startswith("0"):
        tries.append("+" + digits)  # 255712000006: the country code without its +
    for attempt in tries:
        try:
            parsed = phonenumbers.parse(attempt, region.upper() or None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def get_or_create_identity(session: Session, channel: str, address: str) -> Identity:
    """The identity of an address, created on first contact; two first messages at once make one row."""
    stmt = select(Identity).where(Identity.channel == channel, Identity.address == address)
    identity = session.exec(stmt).first()
    if identity is None:
        insert_new(session, Identity, channel=channel, address=address)  # one statement, no savepoint
        identity = session.exec(stmt).one()
    return identity


def next_member_number(session: Session, cluster: Cluster) -> str:
    """The next free number; the cluster row is locked so two members finishing at once get two numbers."""
    lock_row(session, Cluster, cluster.id)
    count = session.exec(select(func.count()).select_from(Member).where(Member.cluster_id == cluster.id)).one()
    n = count + 1
    while session.exec(select(Member.id).where(Member.cluster_id == cluster.id,
                                               Member.number == f"{cluster.code}-{n:03d}")).first():
        n += 1
    return f"{cluster.code}-{n:03d}"


def create_member(session: Session, cluster: Cluster, *, phone: str = "", status: str = "pending",
                  language: str | None = None, **fields) -> Member:
    member = Member(cluster_id=cluster.id, number=next_member_number(session, cluster), phone=phone,
                    status=status, language=language or cluster.language, **fields)
    session.add(member)
    session.flush()
    if phone:
        identity = get_or_create_identity(session, "sms", phone)
        if identity.member_id not in (None, member.id):
            raise MemberError("phone_taken", phone)
        attach_identity(session, identity, member)
    return member


_MEMBER_NUMBER = re.compile(r"([A-Z0-9]+)-([0-9]{1,6})", re.ASCII)


def find_member(session: Session, cluster: Cluster, ref: str) -> Member | None:
    """A member named by member number (MOSHI-004, MOSHI-4, 4) or phone number, within one cluster."""
    ref = (ref or "").strip()
    if not ref:
        return None
    member = session.exec(select(Member).where(Member.cluster_id == cluster.id,
                                               func.upper(Member.number) == ref.upper())).first()
    code = _MEMBER_NUMBER.fullmatch(ref.upper())
    if member is None and (ref.isdecimal() or code and code[1] == cluster.code.upper()):
        number = int(ref) if ref.isdecimal() else int(code[2])  # 4 and MOSHI-4 are MOSHI-004
        member = session.exec(select(Member).where(
            Member.cluster_id == cluster.id, Member.number == f"{cluster.code}-{number:03d}")).first()
    if member is None:
        phone = normalise_phone(ref, cluster.region)
        if phone:
            member = session.exec(select(Member).where(Member.cluster_id == cluster.id,
                                                       Member.phone == phone)).first()
    return member


def decide(session: Session, member: Member, status: str, actor: Member) -> Member:
    """Approve or reject a pending member; only a facilitator of the member's cluster may."""
    if actor.cluster_id != member.cluster_id or not actor.is_admin:
        raise MemberError("not_allowed")
    if member.status == status:
        raise MemberError("already", status)
    if member.status not in ("pending", "rejected") and status == "active":
        raise MemberError("not_pending", member.status)
    if member.status != "pending" and status == "rejected":
        raise MemberError("not_pending", member.status)
    member.status = status
    member.decided_at = utcnow()
    session.add(member)
    audit.record(session, "member." + ("approve" if status == "active" else "reject"),
                 cluster_id=member.cluster_id, actor_member_id=actor.id, subject=member.number)
    return member


def mark_committed(session: Session, member: Member, actor: Member | None, now: datetime,
                   via: str = "sms") -> Member:
    """The facilitator's mark that the member is committed (a fee paid in cash, a signed commitment...):
    it counts toward the committed KPI for 12 months from `now`, like every other way of taking part.
    Marking again renews it. Only active members can be marked."""
    if member.status != "active":
        raise MemberError("not_active")
    member.committed_at = now
    session.add(member)
    audit.record(session, "member.commit", cluster_id=member.cluster_id, actor_member_id=actor.id if actor else None,
                 actor=actor.number if actor else via, subject=member.number, via=via)
    return member


def clear_committed(session: Session, member: Member, actor: Member | None, via: str = "sms") -> bool:
    """Clears the facilitator's mark; False (nothing recorded) when there was none. The member still counts
    as committed while their own records (deposits, attendance, pledges) say they took part."""
    if member.committed_at is None:
        return False
    marked, member.committed_at = member.committed_at, None
    session.add(member)
    audit.record(session, "member.uncommit", cluster_id=member.cluster_id,
                 actor_member_id=actor.id if actor else None, actor=actor.number if actor else via,
                 subject=member.number, via=via, marked_at=marked)
    return True


def admins(session: Session, cluster_id: int, roles: tuple[str, ...] = ("facilitator", "treasurer")) -> list[Member]:
    return list(session.exec(select(Member).where(Member.cluster_id == cluster_id,
                                                  Member.admin_role.in_(roles),
                                                  Member.status == "active")))


# What STOP blocks: every message the person did not ask for and that is not about their own business.
# Replies to their own message, and notices about it (a deposit confirmed, a registration decided, a
# purchase they pledged to, a login code), still go: carriers require that marketing-like sends stop,
# and a person who wrote STOP still needs to hear what happened to their money.
UNSOLICITED = ("broadcast", "invitation", "reminder", "poll", "digest")


def blocks(kind: str) -> bool:
    """Whether a STOP holds back messages of this kind."""
    return kind in UNSOLICITED


def record_stop(session: Session, identity: Identity, member: Member | None) -> None:
    """STOP from this address: recorded on it at once, member or not, and on the member it belongs to."""
    identity.stopped = True
    session.add(identity)
    if member is not None:
        member.opted_out = True
        session.add(member)


def record_start(session: Session, identity: Identity, member: Member | None) -> None:
    """START lifts a STOP from this address and from every address of the member."""
    identity.stopped = False
    session.add(identity)
    if member is None:
        return
    member.opted_out = False
    session.add(member)
    for other in session.exec(select(Identity).where(Identity.member_id == member.id,
                                                     Identity.stopped == True)):  # noqa: E712
        other.stopped = False
        session.add(other)


def attach_identity(session: Session, identity: Identity, member: Member) -> None:
    """Make an address the member's: a STOP sent from it before (while registering) stays in force."""
    identity.member_id = member.id
    session.add(identity)
    if identity.stopped and not member.opted_out:
        member.opted_out = True
        session.add(member)


def _reachable(kind: str):
    """The conditions on an identity a message of `kind` needs: deliverable, and not STOPped when a STOP
    blocks the kind."""
    conditions = [Identity.opted_out == False]  # noqa: E712
    if blocks(kind):
        conditions.append(Identity.stopped == False)  # noqa: E712
    return conditions


def contact_identity(session: Session, member: Member, kind: str = "notice") -> Identity | None:
    """The address a member last wrote from that accepts a message of `kind`; None when STOP blocks it.

    The one rule of who is skipped: outbox.notify, broadcasts, poll rounds and the dispatcher ask here.
    """
    if blocks(kind) and member.opted_out:
        return None
    return session.exec(select(Identity).where(Identity.member_id == member.id, *_reachable(kind))
                        .order_by(Identity.last_seen_at.desc(), Identity.id.desc())).first()


def contact_identities(session: Session, members: list[Member], kind: str = "notice") -> dict[int, Identity]:
    """contact_identity for many members in one query: a broadcast to thousands needs no query each."""
    member_ids = [m.id for m in members if not (blocks(kind) and m.opted_out)]
    found: dict[int, Identity] = {}
    for start in range(0, len(member_ids), 900):  # stay under SQLite's bound-parameter limit
        rows = session.exec(select(Identity).where(Identity.member_id.in_(member_ids[start:start + 900]),
                                                   *_reachable(kind))
                            .order_by(Identity.member_id, Identity.last_seen_at.desc(), Identity.id.desc()))
        for identity in rows:
            found.setdefault(identity.member_id, identity)
    return found


def stopped_addresses(session: Session, channel: str, addresses: set[str]) -> set[str]:
    """Which of these addresses sent STOP, or belong to a member who did (and no START since): the
    dispatcher holds back what STOP blocks even when it was queued before the STOP."""
    if not addresses:
        return set()
    found = session.exec(select(Identity.address).outerjoin(Member, Member.id == Identity.member_id)
                         .where(Identity.channel == channel, Identity.address.in_(addresses),
                                or_(Identity.stopped == True, Member.opted_out == True)))  # noqa: E712
    return set(found)


def set_admin(session: Session, cluster: Cluster, phone: str, role: str, actor: str = "cli") -> Member:
    """Make the holder of a phone a facilitator or treasurer, creating an active member if needed."""
    if role not in ("facilitator", "treasurer"):
        raise MemberError("bad_role", role)
    member = session.exec(select(Member).where(Member.cluster_id == cluster.id, Member.phone == phone)).first()
    if member is None:
        identity = session.exec(select(Identity).where(Identity.channel == "sms",
                                                       Identity.address == phone)).first()
        if identity and identity.member_id:
            raise MemberError("other_cluster", phone)
        member = create_member(session, cluster, phone=phone, status="active", role="support")
    member.admin_role = role
    member.status = "active"
    session.add(member)
    audit.record(session, "member.set_admin", cluster_id=cluster.id, actor=actor, subject=member.number,
                 role=role)
    return member


IMPORT_COLUMNS = {
    "phone": ("phone", "phone number", "mobile", "msisdn", "simu", "namba ya simu", "telephone", "téléphone",
              "tel"),
    "name": ("name", "full name", "jina", "nom"),
    "business": ("business", "company", "firm", "biashara", "entreprise"),
    "sector": ("sector", "sekta", "secteur", "activity"),
    "location": ("location", "town", "village", "mahali", "lieu", "ville"),
    "gender": ("gender", "sex", "jinsia", "sexe", "genre"),
    "role": ("role", "category", "type", "aina", "catégorie", "categorie"),
    "language": ("language", "lang", "lugha", "langue"),
}
GENDER_WORDS = {"female": ("f", "female", "woman", "w", "mwanamke", "ke", "femme"),
                "male": ("m", "male", "man", "mwanaume", "me", "homme", "h"),
                "other": ("other", "o", "x", "nyingine", "autre")}
ROLE_WORDS = {"firm": ("firm", "farm", "firm/farm", "business", "company", "sme", "farmer", "biashara",
                       "entreprise"),
              "government": ("government", "gov", "serikali", "gouvernement", "public"),
              "academia": ("academia", "university", "research", "chuo", "université", "universite"),
              "support": ("support", "support organisation", "support organization", "ngo", "association")}


def _canonical(value: str, words: dict[str, tuple[str, ...]]) -> str | None:
    folded = value.strip().lower()
    for key, options in words.items():
        if folded == key or folded in options:
            return key
    return None


def import_rows(session: Session, cluster: Cluster, rows: list[dict[str, str]], actor: str = "import"
                ) -> tuple[list[Member], list[tuple[int, str]]]:
    """Create active members from a member list; a row that fails is reported and nothing of it stored.

    Row numbers in the report count the header as row 1, as a spreadsheet shows them.
    """
    created: list[Member] = []
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(rows, start=2):
        row = {k: ("" if v is None else str(v)).strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        phone = normalise_phone(row.get("phone", ""), cluster.region)
        problem = None
        if phone is None:
            problem = f"phone '{row.get('phone', '')}' is not a valid number"
        elif phone in seen:
            problem = f"phone {phone} appears twice in the file"
        elif session.exec(select(Identity).where(Identity.channel == "sms", Identity.address == phone,
                                                 Identity.member_id != None)).first():  # noqa: E711
            problem = f"phone {phone} is already a member"
        elif not 2 <= len(row.get("name", "")) <= 80:
            problem = "name is missing or longer than 80 characters"
        gender = _canonical(row.get("gender", ""), GENDER_WORDS) if row.get("gender") else ""
        role = _canonical(row.get("role", ""), ROLE_WORDS) if row.get("role") else "firm"
        language = (row.get("language") or cluster.language).lower()[:2]
        if problem is None and gender is None:
            problem = f"gender '{row['gender']}' is not one of female, male, other"
        if problem is None and role is None:
            problem = f"role '{row['role']}' is not one of firm, government, academia, support"
        if problem is None and language not in LANGUAGES:
            problem = f"language '{row['language']}' is not one of {', '.join(LANGUAGES)}"
        if problem is None and any(len(row.get(k, "")) > 80 for k in ("business", "sector", "location")):
            problem = "business, sector or location is longer than 80 characters"
        if problem:
            errors.append((index, problem))
            continue
        seen.add(phone)
        member = create_member(session, cluster, phone=phone, status="active", language=language,
                               name=row["name"], business=row.get("business", ""),
                               sector=row.get("sector", ""), location=row.get("location", ""),
                               gender=gender, role=role)
        created.append(member)
    if created:
        audit.record(session, "member.import", cluster_id=cluster.id, actor=actor, subject=f"{len(created)} rows",
                     rejected=len(errors))
    return created, errors
