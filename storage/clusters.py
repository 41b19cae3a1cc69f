"""Clusters: each with its own join code, language, currency, timezone and phone region."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_precision
from sqlmodel import Field, Session, SQLModel, func, select

from storage.db import utcnow


class Cluster(SQLModel, table=True):
    __tablename__ = "clusters"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    code: str = Field(max_length=20, unique=True, index=True)
    language: str = Field(default="en", max_length=5)
    currency: str = Field(default="TZS", max_length=3)
    timezone: str = Field(default="Africa/Dar_es_Salaam", max_length=64)
    region: str = Field(default="TZ", max_length=2)
    sms_provider: str = Field(default="", max_length=20)  # who sends its notices by SMS; '': SMS_PROVIDER
    created_at: datetime = Field(default_factory=utcnow)


SMS_PROVIDERS = ("twilio", "africastalking")  # a cluster's own SMS provider; '' : the SMS_PROVIDER setting


class ClusterError(ValueError):
    """A cluster cannot be created as asked; the message says why."""


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.strip().upper() if ch.isalnum())


def create_cluster(session: Session, name: str, code: str, *, language: str = "en", currency: str = "TZS",
                   timezone: str = "Africa/Dar_es_Salaam", region: str = "TZ", sms_provider: str = "") -> Cluster:
    code = normalise_code(code)
    if not name.strip():
        raise ClusterError("a cluster needs a name")
    if not 2 <= len(code) <= 20:
        raise ClusterError("the join code must be 2 to 20 letters or digits")
    if find_by_code(session, code):
        raise ClusterError(f"join code {code} is already used")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ClusterError(f"unknown timezone {timezone}") from exc
    currency = currency.upper()
    if len(currency) != 3 or get_currency_precision(currency) is None:
        raise ClusterError(f"unknown currency {currency}")
    sms_provider = check_sms_provider(sms_provider)
    cluster = Cluster(name=name.strip(), code=code, language=language, currency=currency,
                      timezone=timezone, region=region.upper(), sms_provider=sms_provider)
    session.add(cluster)
    session.flush()
    return cluster


def check_sms_provider(name: str) -> str:
    name = name.strip().lower()
    if name and name not in SMS_PROVIDERS:
        raise ClusterError(f"unknown SMS provider {name}; one of {', '.join(SMS_PROVIDERS)}")
    return name


def find_by_code(session: Session, code: str) -> Cluster | None:
    return session.exec(select(Cluster).where(Cluster.code == normalise_code(code))).first()


def only_cluster(session: Session) -> Cluster | None:
    """The deployment's single cluster, or None when there are none or several."""
    if session.exec(select(func.count()).select_from(Cluster)).one() != 1:
        return None
    return session.exec(select(Cluster)).first()


def all_clusters(session: Session) -> list[Cluster]:
    return list(session.exec(select(Cluster).order_by(Cluster.id)))
