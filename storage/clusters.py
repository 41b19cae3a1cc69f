"""Clusters: each with its own join code, language, currency, timezone and phone region."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
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
    # The hours notices that are not answers wait out ("20:00-08:00" local, or "off"); '' only on a cluster
    # made before quiet hours existed, until the next start gives it the QUIET_HOURS setting.
    quiet_hours: str = Field(default="", max_length=11)
    created_at: datetime = Field(default_factory=utcnow)


SMS_PROVIDERS = ("twilio", "africastalking")  # a cluster's own SMS provider; '' : the SMS_PROVIDER setting


class ClusterError(ValueError):
    """A cluster cannot be created as asked; the message says why."""


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.strip().upper() if ch.isalnum())


def create_cluster(session: Session, name: str, code: str, *, language: str = "en", currency: str = "TZS",
                   timezone: str = "Africa/Dar_es_Salaam", region: str = "TZ", sms_provider: str = "",
                   quiet_hours: str = "") -> Cluster:
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
    if quiet_hours:
        quiet_hours = normalise_quiet_hours(quiet_hours)
    cluster = Cluster(name=name.strip(), code=code, language=language, currency=currency,
                      timezone=timezone, region=region.upper(), sms_provider=sms_provider,
                      quiet_hours=quiet_hours)
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


# ---------------------------------------------------------------- quiet hours

DEFAULT_QUIET_HOURS = "20:00-08:00"  # carriers in East Africa recommend sending between 08:00 and 20:00
QUIET_OFF = "off"
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3])[:h.]([0-5][0-9])$")


def _clock(text: str) -> time:
    found = _CLOCK.match(text.strip())
    if found is None:
        raise ClusterError(f"quiet hours must be like 20:00-08:00, or off; {text.strip()!r} is not a time")
    return time(int(found.group(1)), int(found.group(2)))


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """(start, end) of the quiet period from "20:00-08:00"; None for "off". A period may run across
    midnight; one that starts when it ends is refused (it would be all day or never)."""
    if text.strip().lower() == QUIET_OFF:
        return None
    start, dash, end = text.strip().partition("-")
    if not dash:
        raise ClusterError("quiet hours must be like 20:00-08:00 (start-end, local time), or off")
    start_at, end_at = _clock(start), _clock(end)
    if start_at == end_at:
        raise ClusterError("quiet hours must start and end at different times, like 20:00-08:00, or be off")
    return start_at, end_at


def normalise_quiet_hours(text: str) -> str:
    """The stored form: "20:00-08:00" or "off"; raises ClusterError saying what was expected."""
    window = parse_quiet_hours(text)
    if window is None:
        return QUIET_OFF
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}"


def quiet_until(cluster: Cluster, now: datetime) -> datetime | None:
    """When the quiet period `now` falls in ends (UTC), in the cluster's own timezone; None when `now` is
    inside the sending window or the cluster has no quiet hours. Wall-clock times are joined to dates and
    then to the zone (never hours added to a local time), so a DST change moves nothing."""
    if not cluster.quiet_hours:
        return None
    window = parse_quiet_hours(cluster.quiet_hours)
    if window is None:
        return None
    start, end = window
    zone = ZoneInfo(cluster.timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
    else:
        inside = clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def adopt_quiet_hours(session: Session, setting: str) -> int:
    """Give the QUIET_HOURS setting to every cluster that has no quiet hours of its own yet."""
    value = normalise_quiet_hours(setting)
    found = list(session.exec(select(Cluster).where(Cluster.quiet_hours == "")))
    for cluster in found:
        cluster.quiet_hours = value
        session.add(cluster)
    return len(found)
