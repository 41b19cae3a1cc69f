"""Twilio SMS: signed webhooks in, TwiML answers, REST sends, delivery status callbacks."""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.config import Settings
from bot.dispatch import SendError
from bot.engine import Inbound
from storage.members import normalise_phone
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

# Twilio error codes that will not get better by retrying.
OPT_OUT_CODES = {21610}  # the recipient replied STOP at the carrier
PERMANENT_CODES = {21211, 21614, 21612, 21408, 21606, 21610, 30003, 30004, 30005, 30006, 30007}
STATUS_MAP = {"accepted": "queued", "queued": "queued", "sending": "sent", "sent": "sent",
              "delivered": "delivered", "undelivered": "failed", "failed": "failed", "read": "delivered"}


def public_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio signed: built from PUBLIC_BASE_URL, never from the request (proxies end TLS)."""
    return settings.public_base_url + path + (f"?{query}" if query else "")


def signature_ok(settings: Settings, url: str, params: dict[str, str], signature: str | None) -> bool:
    if not signature or not settings.twilio_auth_token:
        return False
    return RequestValidator(settings.twilio_auth_token).validate(url, params, signature)


def inbound_from_form(form: dict[str, str], settings: Settings) -> Inbound | None:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From", "")
    if not sid or not sender:
        return None
    phone = normalise_phone(sender, settings.default_region) or sender[:32]
    return Inbound(channel="sms", address=phone, text=form.get("Body", ""), provider_id=sid)


def twiml(texts: list[str]) -> str:
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


class _HeaderKeepingClient(TwilioHttpClient):
    """Keeps the last response's headers so a 429's Retry-After can be honoured."""

    last_headers: dict = {}

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        self.last_headers = dict(response.headers or {})
        return response


class TwilioTransport:
    channel = "sms"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.rate = settings.sms_rate
        self.http = _HeaderKeepingClient(timeout=15)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http)
        self.client.api.base_url = settings.twilio_api_base

    def send(self, message: OutboundMessage) -> str:
        kwargs = {"to": message.address, "body": message.text,
                  "status_callback": public_url(self.settings, "/webhooks/twilio/status")}
        if self.settings.twilio_messaging_service_sid:
            kwargs["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            kwargs["from_"] = self.settings.twilio_from_number
        try:
            return self.client.messages.create(**kwargs).sid
        except TwilioRestException as exc:
            raise classify(exc.status, exc.code, exc.msg, self.http.last_headers) from exc
        except OSError as exc:
            raise SendError(f"connection: {exc}") from exc
        except Exception as exc:  # requests' own connection and timeout errors
            raise SendError(f"{type(exc).__name__}: {exc}") from exc


def classify(status: int, code: int | None, msg: str, headers: dict) -> SendError:
    reason = f"twilio {status} {code or ''} {msg}".strip()[:300]
    if code in OPT_OUT_CODES:
        return SendError(reason, opt_out=True)
    if code in PERMANENT_CODES:
        return SendError(reason, permanent=True)
    if status == 429 or status >= 500:
        retry = headers.get("Retry-After") or headers.get("retry-after")
        try:
            retry_after = float(retry) if retry else None
        except ValueError:
            retry_after = None
        return SendError(reason, retry_after=retry_after)
    if status in (401, 403, 404):
        return SendError(reason)  # account trouble: retry later, the operator must fix it
    return SendError(reason, permanent=True)
