"""Dashboard logins: one-time codes sent to a facilitator's own phone, and the sessions they open.

Only hashes are stored: a leaked table gives neither a usable code nor a usable session cookie (nor a
requester's address). A code is short-lived, single-use and allows few guesses.

Asking for codes must neither cost the cluster many SMS nor let a stranger lock an officer out:
- A code always goes to the officer's own phone, whoever asked. From an unknown browser a number gets at
  most one code per RESEND window (the code's lifetime): asking again inside it sends nothing and leaves
  the code already sent valid, so a stranger's request only ever delivers the officer a code they can use.
- One requester (client address) may ask for ADDRESS_CODES_PER_HOUR codes and make
  ADDRESS_GUESSES_PER_HOUR wrong guesses an hour, whatever the numbers: spraying numbers or guessing stops.
- A browser that logged in before holds a device cookie (DEVICE_TTL). It is exempt from both limits, gets
  a fresh code whenever it asks (DEVICE_CODES_PER_HOUR), and that code is redeemable only with the device
  cookie: guesses from anywhere else can neither use it nor burn it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, delete, func, select

from storage import audit
from storage.db import utcnow
from storage.members import Member

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
RESEND = CODE_TTL  # one code per number per window from unknown browsers
ADDRESS_CODES_PER_HOUR = 10
ADDRESS_GUESSES_PER_HOUR = 20
DEVICE_CODES_PER_HOUR = 5
SESSION_TTL = timedelta(hours=12)
DEVICE_TTL = timedelta(days=90)
HOUR = timedelta(hours=1)


class KnownDevice(SQLModel, table=True):
    """A browser an officer logged in from: its cookie (stored hashed) spares it the requester limits."""
    __tablename__ = "dashboard_devices"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginAttempt(SQLModel, table=True):
    """One code request or wrong guess by a requester (a hashed client address), for the hourly limits."""
    __tablename__ = "dashboard_login_attempts"
    id: int | None = Field(default=None, primary_key=True)
    requester: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=10)  # "code" or "guess"
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LoginCode(SQLModel, table=True):
    __tablename__ = "dashboard_codes"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="dashboard_devices.id")  # None: any browser
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime
    used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    __tablename__ = "dashboard_sessions"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked: bool = False


class LoginError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def requester_key(address: str) -> str:
    """What is stored of a client address: its hash."""
    return _hash("requester:" + (address or "unknown"))


def known_device(session: Session, member: Member, token: str, now: datetime | None = None) -> KnownDevice | None:
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = session.exec(select(KnownDevice).where(KnownDevice.token_hash == _hash("device:" + token))).first()
    if row is None or row.member_id != member.id or row.expires_at <= now:
        return None
    return row


def _attempts(session: Session, requester: str, kind: str, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.requester == requester, LoginAttempt.kind == kind,
        LoginAttempt.created_at > now - HOUR)).one()


def _note(session: Session, requester: str, kind: str, now: datetime) -> None:
    session.exec(delete(LoginAttempt).where(LoginAttempt.created_at <= now - timedelta(days=1)))
    session.add(LoginAttempt(requester=requester, kind=kind, created_at=now))


def _live(row: LoginCode | None, now: datetime) -> bool:
    return row is not None and row.used_at is None and row.expires_at > now and row.attempts < CODE_ATTEMPTS


def issue_code(session: Session, member: Member, *, requester: str = "", device_token: str = "",
               now: datetime | None = None) -> str | None:
    """A fresh 6-digit code for an active facilitator or treasurer, or None when none is sent (a code
    went to this number within RESEND, or the requester is over its limit). See the module's rules."""
    now = now or utcnow()
    if member.status != "active" or not member.is_admin:
        raise LoginError("not_admin")
    device = known_device(session, member, device_token, now)
    if device is not None:
        recent = session.exec(select(func.count()).select_from(LoginCode).where(
            LoginCode.device_id == device.id, LoginCode.created_at > now - HOUR)).one()
        if recent >= DEVICE_CODES_PER_HOUR:
            raise LoginError("too_many")
    else:
        if _attempts(session, requester, "code", now) >= ADDRESS_CODES_PER_HOUR:
            raise LoginError("too_many")
        _note(session, requester, "code", now)
        last = session.exec(select(LoginCode).where(LoginCode.member_id == member.id,
                                                    LoginCode.device_id == None)  # noqa: E711
                            .order_by(LoginCode.id.desc())).first()
        if last is not None and last.created_at > now - RESEND:
            return None  # the code already on the officer's phone stays the one to use
    device_id = device.id if device is not None else None
    for old in session.exec(select(LoginCode).where(LoginCode.member_id == member.id,
                                                    LoginCode.device_id == device_id,
                                                    LoginCode.used_at == None)):  # noqa: E711
        old.used_at = now
        session.add(old)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(LoginCode(member_id=member.id, device_id=device_id, code_hash=_hash(f"{member.id}:{code}"),
                          created_at=now, expires_at=now + CODE_TTL))
    return code


def redeem_code(session: Session, member: Member, code: str, *, requester: str = "", device_token: str = "",
                now: datetime | None = None) -> tuple[str, str]:
    """Trade a valid code for a session token (returned once, stored hashed) and, for a browser not yet
    known, a device token to keep ("" when it is known already). A wrong guess counts against the code
    it was tried on and, from an unknown browser, against the requester."""
    now = now or utcnow()
    device = known_device(session, member, device_token, now)
    if device is None and _attempts(session, requester, "guess", now) >= ADDRESS_GUESSES_PER_HOUR:
        raise LoginError("too_many")
    candidates = []
    if device is not None:
        candidates.append(session.exec(select(LoginCode).where(
            LoginCode.device_id == device.id, LoginCode.used_at == None)  # noqa: E711
            .order_by(LoginCode.id.desc())).first())
    candidates.append(session.exec(select(LoginCode).where(
        LoginCode.member_id == member.id, LoginCode.device_id == None,  # noqa: E711
        LoginCode.used_at == None).order_by(LoginCode.id.desc())).first())  # noqa: E711
    live = [row for row in candidates if _live(row, now)]
    if not live:
        raise LoginError("no_code")
    given = _hash(f"{member.id}:{code.strip()}")
    row = next((r for r in live if hmac.compare_digest(r.code_hash, given)), None)
    if row is None:
        live[0].attempts += 1  # the device's own code for a known browser, else the number's code
        session.add(live[0])
        if device is None:
            _note(session, requester, "guess", now)
        raise LoginError("wrong_code")
    row.used_at = now
    session.add(row)
    token = secrets.token_urlsafe(32)
    session.add(WebSession(member_id=member.id, token_hash=_hash(token), created_at=now,
                           expires_at=now + SESSION_TTL))
    new_device = ""
    if device is None:
        new_device = secrets.token_urlsafe(32)
        session.add(KnownDevice(member_id=member.id, token_hash=_hash("device:" + new_device), created_at=now,
                                expires_at=now + DEVICE_TTL))
    audit.record(session, "dashboard.login", cluster_id=member.cluster_id, actor_member_id=member.id,
                 subject=member.number)
    return token, new_device


def session_member(session: Session, token: str, now: datetime | None = None) -> Member | None:
    """The facilitator a session cookie belongs to, while it is valid and they are still an admin."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is None or row.revoked or row.expires_at <= now:
        return None
    member = session.get(Member, row.member_id)
    if member is None or member.status != "active" or not member.is_admin:
        return None
    return member


def revoke(session: Session, token: str) -> None:
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is not None:
        row.revoked = True
        session.add(row)


def csrf_token(token: str) -> str:
    """The form token that goes with a session: derived from the cookie, so nothing more is stored."""
    return _hash("csrf:" + token)[:32]


def csrf_ok(token: str, submitted: str) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(token), (submitted or "")[:64])
