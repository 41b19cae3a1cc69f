"""Settings come only from the environment (and a `.env` file when present), read once into one object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from dotenv import dotenv_values

from storage.clusters import DEFAULT_QUIET_HOURS, normalise_quiet_hours

TELEGRAM_API = "https://api.telegram.org"
AT_API = "https://api.africastalking.com"
SMS_PROVIDERS = ("twilio", "africastalking", "simulator")  # SMS_PROVIDER and a cluster's sms_provider
UNSAFE_SIMULATOR = "unsafe-with-providers"  # SIMULATOR's value that keeps it on beside a real provider
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _simulator(value: str | None, *, providers: bool) -> tuple[bool, bool]:
    """(on, refused): beside a real provider anyone reaching /simulate could act as any phone, so the
    simulator stays off there unless SIMULATOR=unsafe-with-providers says so explicitly."""
    if (value or "").strip().lower() == UNSAFE_SIMULATOR:
        return True, False
    wanted = _flag(value, default=not providers)
    if wanted and providers:
        return False, True
    return wanted, False


def _sms_provider(value: str) -> str:
    """'' (the one configured: see Settings.default_sms_provider) or one of SMS_PROVIDERS."""
    name = value.strip().lower()
    if name and name not in SMS_PROVIDERS:
        raise ValueError(f"SMS_PROVIDER is {value!r}; one of {', '.join(SMS_PROVIDERS)}")
    return name


def _log_level(value: str) -> str:
    """Quiet by default (warnings and errors only); INFO adds what the bot does, DEBUG everything."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL is {value!r}; one of {', '.join(LOG_LEVELS)}")
    return level


def _quiet_hours(value: str) -> str:
    try:
        return normalise_quiet_hours(value)
    except ValueError as exc:
        raise ValueError(f"QUIET_HOURS is {value!r}: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./clusterbot.db"
    public_base_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    at_username: str = ""
    at_api_key: str = ""
    at_from: str = ""  # shortcode or sender id; empty: Africa's Talking's default sender
    at_api_base: str = AT_API
    at_webhook_key: str = ""  # every Africa's Talking callback URL carries ?key=<this> (AT does not sign)
    sms_provider: str = ""  # '' : the one configured (default_sms_provider)
    ussd_service_code: str = ""
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = TELEGRAM_API
    telegram_mode: str = "webhook"
    simulator: bool = True
    simulator_refused: bool = False  # SIMULATOR asked for it beside a real provider: kept off (and logged)
    forwarded_allow_ips: str = ""  # the proxies whose X-Forwarded-* headers are believed; none by default
    default_region: str = "TZ"
    default_language: str = "en"
    default_currency: str = "TZS"
    timezone: str = "Africa/Dar_es_Salaam"
    quiet_hours: str = DEFAULT_QUIET_HOURS  # written onto each new cluster; "off" sends notices at any hour
    sms_rate: float = 1.0
    telegram_rate: float = 25.0
    flood_limit: int = 20
    dispatch_max_attempts: int = 8
    retention_days: int = 365
    leader_interval: float = 5.0
    log_level: str = "WARNING"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token
                    and (self.twilio_from_number or self.twilio_messaging_service_sid))

    @property
    def at_enabled(self) -> bool:
        return bool(self.at_username and self.at_api_key)

    @property
    def default_sms_provider(self) -> str:
        """Which provider sends SMS that no one asked for by name (notices, and rows without a provider):
        SMS_PROVIDER, else the one configured (Twilio when both are), else the simulator."""
        if self.sms_provider:
            return self.sms_provider
        if self.twilio_enabled:
            return "twilio"
        return "africastalking" if self.at_enabled else "simulator"

    @property
    def real_sms(self) -> bool:
        """A real SMS provider is configured (Twilio or Africa's Talking)."""
        return self.twilio_enabled or self.at_enabled

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv_path: str = ".env") -> Settings:
        """Read the process environment over the `.env` file; a variable set in the shell wins."""
        values: dict[str, str] = {}
        if env is None:
            if os.path.exists(dotenv_path):
                values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
            values.update(os.environ)
        else:
            values.update(env)

        def get(name: str, default: str = "") -> str:
            return values.get(name, default) or default

        twilio_on = bool(get("TWILIO_ACCOUNT_SID") and get("TWILIO_AUTH_TOKEN"))
        at_on = bool(get("AT_USERNAME") and get("AT_API_KEY"))
        telegram_on = bool(get("TELEGRAM_BOT_TOKEN"))
        simulator, simulator_refused = _simulator(values.get("SIMULATOR"),
                                                  providers=twilio_on or at_on or telegram_on)
        return cls(
            database_url=get("DATABASE_URL", cls.database_url),
            public_base_url=get("PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from_number=get("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base=get("TWILIO_API_BASE", cls.twilio_api_base).rstrip("/"),
            at_username=get("AT_USERNAME").strip(),
            at_api_key=get("AT_API_KEY").strip(),
            at_from=get("AT_FROM").strip(),
            at_api_base=get("AT_API_BASE", AT_API).rstrip("/"),
            at_webhook_key=get("AT_WEBHOOK_KEY"),
            sms_provider=_sms_provider(get("SMS_PROVIDER")),
            ussd_service_code=get("USSD_SERVICE_CODE").strip(),
            telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_base=get("TELEGRAM_API_BASE", TELEGRAM_API).rstrip("/"),
            telegram_mode=get("TELEGRAM_MODE", "webhook").lower(),
            simulator=simulator,
            simulator_refused=simulator_refused,
            forwarded_allow_ips=get("FORWARDED_ALLOW_IPS").strip(),
            default_region=get("DEFAULT_REGION", cls.default_region).upper(),
            default_language=get("DEFAULT_LANGUAGE", cls.default_language).lower(),
            default_currency=get("DEFAULT_CURRENCY", cls.default_currency).upper(),
            timezone=get("TIMEZONE", cls.timezone),
            quiet_hours=_quiet_hours(get("QUIET_HOURS", cls.quiet_hours)),
            sms_rate=float(get("SMS_RATE", "1")),
            telegram_rate=float(get("TELEGRAM_RATE", "25")),
            flood_limit=int(get("FLOOD_LIMIT", "20")),
            dispatch_max_attempts=int(get("DISPATCH_MAX_ATTEMPTS", "8")),
            retention_days=int(get("RETENTION_DAYS", "365")),
            leader_interval=max(0.2, float(get("LEADER_INTERVAL", "5"))),
            log_level=_log_level(get("LOG_LEVEL", cls.log_level)),
            extra=values,
        )
