"""Twilio SMS: signed webhooks in, TwiML answers, REST sends, delivery status callbacks."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.sax.saxutils import escape

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.config import Settings
from bot.dispatch import SendError
from bot.engine import Inbound
from storage.members import normalise_phone
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

# Twilio error codes that say this address cannot or will not receive SMS: the message fails and the
# address is silenced until its owner writes again.
SILENCE_CODES = {
    21610,  # the recipient replied STOP at the carrier
    21211,  # not a valid phone number
    21612,  # not reachable by SMS from this sender
    21614,  # not a mobile number
    30004,  # blocked by the recipient or the carrier
    30005,  # unknown or inactive number
    30006,  # a landline or unreachable carrier
}
# Codes that fail this message for good without saying anything about the address.
PERMANENT_CODES = SILENCE_CODES | {
    21408,  # sending to this region is not enabled on the account
    21602,  # empty body
    21606,  # the sender number cannot send SMS
    21617,  # body too long
    30003,  # the handset was unreachable until the message expired
    30007,  # filtered by the carrier
}
STATUS_MAP = {"accepted": "queued", "queued": "queued", "sending": "sent", "sent": "sent",
              "delivered": "delivered", "undelivered": "failed", "failed": "failed", "read": "delivered"}
STATUS_PATH = "/webhooks/twilio/status"


def public_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio signed: built from PUBLIC_BASE_URL, never from the request (proxies end TLS)."""
    return settings.public_base_url + path + (f"?{query}" if query else "")


def signature_ok(settings: Settings, url: str, params: dict[str, str], signature: str | None) -> bool:
    if not signature or not settings.twilio_auth_token:
        return False
    return RequestValidator(settings.twilio_auth_token).validate(url, _Params(params), signature)


class _Params(dict):
    """The form as the validator reads a MultiDict: given as a plain dict it looks every value up through
    two AttributeErrors (no getall, no getlist), for each field, twice."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def inbound_from_form(form: dict[str, str], settings: Settings) -> Inbound | None:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From", "")
    if not sid or not sender:
        return None
    phone = normalise_phone(sender, settings.default_region) or sender[:32]
    return Inbound(channel="sms", address=phone, text=form.get("Body", ""), provider_id=sid, provider="twilio")


def twiml(texts: list[str]) -> str:
    """The TwiML answer carrying the replies: what twilio's MessagingResponse writes, character for
    character (tests/test_twilio.py compares them), without building an element tree for it."""
    if not texts:
        return _TWIML_EMPTY
    return _TWIML_HEAD + "".join(f"<Message>{escape(text)}</Message>" if text else "<Message />"
                                 for text in texts) + "</Response>"


_TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
_TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


class _HeaderKeepingClient(TwilioHttpClient):
    """Keeps each thread's last response headers so a 429's Retry-After can be honoured."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    @property
    def last_headers(self) -> dict[str, str]:
        return getattr(self._local, "headers", {})

    def request(self, *args, **kwargs):
        self._local.headers = {}
        response = super().request(*args, **kwargs)
        self._local.headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return response


class TwilioTransport:
    """Sends outbox rows with Twilio's REST client; the base URL is TWILIO_API_BASE (a fake in tests)."""

    channel = "sms"
    provider = "twilio"

    def __init__(self, settings: Settings, timeout: float = 15.0):
        self.settings = settings
        self.rate = settings.sms_rate
        self.http = _HeaderKeepingClient(timeout=timeout)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http)
        self.client.api.base_url = settings.twilio_api_base

    def send(self, message: OutboundMessage) -> str:
        kwargs = {"to": message.address, "body": message.text,
                  "status_callback": public_url(self.settings, STATUS_PATH)}
        if self.settings.twilio_messaging_service_sid:
            kwargs["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            kwargs["from_"] = self.settings.twilio_from_number
        try:
            return self.client.messages.create(**kwargs).sid
        except TwilioRestException as exc:
            raise classify(exc.status, exc.code, exc.msg, self.http.last_headers) from exc
        except OSError as exc:  # requests' connection errors and timeouts are OSErrors
            raise SendError(f"twilio connection: {type(exc).__name__}") from exc
        except (TwilioException, ValueError) as exc:  # an answer that is not a Twilio message
            raise SendError(f"twilio answer: {exc}"[:300]) from exc


def classify(status: int, code: int | None, msg: str, headers: dict[str, str]) -> SendError:
    """What a Twilio error means for the message and the address."""
    reason = f"twilio {status} {code or ''} {msg}".replace("  ", " ").strip()[:300]
    if code in SILENCE_CODES:
        return SendError(reason, opt_out=True)
    if code in PERMANENT_CODES:
        return SendError(reason, permanent=True)
    if status == 429 or status >= 500:
        return SendError(reason, retry_after=retry_after(headers.get("retry-after")))
    if status in (401, 403, 404):
        log.warning("Twilio refused the account (%s): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", status)
        return SendError(reason)  # retried: the operator must fix the account, the message is fine
    return SendError(reason, permanent=True)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
