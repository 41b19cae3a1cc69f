"""Dashboard logins: one-time codes sent to a facilitator's own phone, and the sessions they open.

Only hashes are stored: a leaked table gives neither a usable code nor a usable session cookie.
A code is short-lived, single-use and allows few guesses; a member may ask for few codes an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, func, select

from storage import audit
from storage.db import utcnow
from storage.members import Member

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 5
SESSION_TTL = timedelta(hours=12)


class LoginCode(SQLModel, table=True):
    __tablename__ = "dashboard_codes"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
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


def issue_code(session: Session, member: Member, now: datetime | None = None) -> str:
    """A fresh 6-digit code for an active facilitator or treasurer; earlier unused codes stop working."""
    now = now or utcnow()
    if member.status != "active" or not member.is_admin:
        raise LoginError("not_admin")
    recent = session.exec(select(func.count()).select_from(LoginCode).where(
        LoginCode.member_id == member.id, LoginCode.created_at > now - timedelta(hours=1))).one()
    if recent >= CODES_PER_HOUR:
        raise LoginError("too_many")
    for old in session.exec(select(LoginCode).where(LoginCode.member_id == member.id,
                                                    LoginCode.used_at == None)):  # noqa: E711
        old.used_at = now
        session.add(old)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(LoginCode(member_id=member.id, code_hash=_hash(f"{member.id}:{code}"), created_at=now,
                          expires_at=now + CODE_TTL))
    return code


def redeem_code(session: Session, member: Member, code: str, now: datetime | None = None) -> str:
    """Trade a valid code for a session token (returned once, stored hashed); a wrong guess counts."""
    now = now or utcnow()
    row = session.exec(select(LoginCode).where(LoginCode.member_id == member.id,
                                               LoginCode.used_at == None)  # noqa: E711
                       .order_by(LoginCode.id.desc())).first()
    if row is None or row.expires_at <= now or row.attempts >= CODE_ATTEMPTS:
        raise LoginError("no_code")
    if not hmac.compare_digest(row.code_hash, _hash(f"{member.id}:{code.strip()}")):
        row.attempts += 1
        session.add(row)
        raise LoginError("wrong_code")
    row.used_at = now
    session.add(row)
    token = secrets.token_urlsafe(32)
    session.add(WebSession(member_id=member.id, token_hash=_hash(token), created_at=now,
                           expires_at=now + SESSION_TTL))
    audit.record(session, "dashboard.login", cluster_id=member.cluster_id, actor_member_id=member.id,
                 subject=member.number)
    return token


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
