"""Africa's Talking SMS: keyed callbacks in (incoming messages, delivery reports), REST sends out.

Africa's Talking takes no reply in the answer to its incoming-message callback: replies are queued and the
dispatcher sends them through the messaging API, with the linkId of the message they answer. Its callbacks
are not signed, so every callback URL carries `?key=AT_WEBHOOK_KEY` (see key_ok).

Sending uses httpx rather than the official `africastalking` SDK: the SDK builds its URLs from a fixed
host chosen by the username (sandbox or live) and cannot be pointed at AT_API_BASE (a local fake in tests).
"""

from __future__ import annotations

import hmac
import logging

import httpx

from bot.channels.twilio_sms import retry_after
from bot.config import Settings
from bot.dispatch import SendError
from bot.engine import Inbound
from storage.members import normalise_phone
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

PROVIDER = "africastalking"
ID_PREFIX = "at-"  # inbound ids share the (channel, provider_id) key with Twilio's MessageSids
SEND_PATH = "/version1/messaging"
SMS_PATH = "/webhooks/africastalking/sms"
DELIVERY_PATH = "/webhooks/africastalking/delivery"

# The per-recipient statusCode of a send (the number and name AT gives).
OK_CODES = {100, 101, 102}  # Processed, Sent, Queued
SILENCE_CODES = {
    403,  # InvalidPhoneNumber
    406,  # UserInBlacklist: the person opted out of this sender
}
PERMANENT_CODES = SILENCE_CODES | {
    402,  # InvalidSenderId: AT_FROM is not this account's
    404,  # UnsupportedNumberType
    407,  # CouldNotRoute
    409,  # DoNotDisturbRejection (Nigeria: a promotional sender outside its hours)
    502,  # RejectedByGateway
}
OPERATOR_CODES = {
    401,  # RiskHold: the account is held for review
    405,  # InsufficientBalance: the account needs topping up
}
# Anything else (500 InternalServerError, 501 GatewayError, codes AT adds later) is retried.

# Delivery report statuses, and what they make of the outbox row.
STATUS_MAP = {"Sent": "sent", "Submitted": "sent", "Buffered": "sent", "Success": "delivered",
              "Failed": "failed", "Rejected": "failed", "AbsentSubscriber": "failed", "Expired": "failed"}
# failureReasons that say the address cannot or will not receive: silenced until its owner writes again.
SILENCE_REASONS = {"userinblacklist", "invalidphonenumber", "userisinactive", "useraccountsuspended",
                   "userdoesnotexist"}


def key_ok(settings: Settings, request) -> bool:
    """Whether a callback carries the right ?key= (compared in constant time); never without AT configured."""
    key = settings.at_webhook_key
    if not settings.at_enabled or not key:
        return False
    given = request.query_params.get("key", "")
    return hmac.compare_digest(given.encode(), key.encode())


def inbound_from_form(form: dict[str, str], settings: Settings) -> Inbound | None:
    message_id, sender = form.get("id", "").strip(), form.get("from", "").strip()
    if not message_id or not sender:
        return None
    phone = normalise_phone(sender, settings.default_region) or sender[:32]
    return Inbound(channel="sms", address=phone, text=form.get("text", ""), provider_id=ID_PREFIX + message_id,
                   provider=PROVIDER, link_id=form.get("linkId", "").strip())


def silences(reason: str) -> bool:
    return reason.strip().lower() in SILENCE_REASONS


class AfricasTalkingTransport:
    """Sends outbox rows with POST {AT_API_BASE}/version1/messaging."""

    channel = "sms"
    provider = PROVIDER

    def __init__(self, settings: Settings, timeout: float = 15.0):
        self.settings = settings
        self.rate = settings.sms_rate
        self.http = httpx.Client(base_url=settings.at_api_base, timeout=timeout,
                                 headers={"apiKey": settings.at_api_key, "Accept": "application/json"})

    def send(self, message: OutboundMessage) -> str:
        form = {"username": self.settings.at_username, "to": message.address, "message": message.text}
        if self.settings.at_from:
            form["from"] = self.settings.at_from
        if message.link_id:
            form["linkId"] = message.link_id
        try:
            response = self.http.post(SEND_PATH, data=form)
        except httpx.TransportError as exc:  # refused, timed out, reset
            raise SendError(f"africastalking connection: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise classify_http(response.status_code, response.text, response.headers)
        try:
            data = response.json()["SMSMessageData"]
            recipients = data["Recipients"]
        except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not a send's answer
            raise SendError(f"africastalking answer: {response.text[:200]}"[:300]) from exc
        if not recipients or not isinstance(recipients[0], dict):
            summary = str(data.get("Message", ""))[:200]
            log.warning("Africa's Talking sent to nobody (%s): check AT_FROM and the account", summary)
            raise SendError(f"africastalking sent to nobody: {summary}"[:300])
        error = classify(recipients[0])
        if error is not None:
            raise error
        return str(recipients[0]["messageId"])[:64]

    def close(self) -> None:
        self.http.close()


def classify(recipient: dict) -> SendError | None:
    """None when the recipient was accepted (with a messageId), else what its statusCode means."""
    try:
        code = int(recipient.get("statusCode"))
    except (TypeError, ValueError):
        code = 0
    if code in OK_CODES and recipient.get("messageId"):
        return None
    reason = f"africastalking {code} {recipient.get('status', '')}".strip()[:300]
    if code in SILENCE_CODES:
        return SendError(reason, opt_out=True)
    if code in PERMANENT_CODES:
        return SendError(reason, permanent=True)
    if code in OPERATOR_CODES:
        log.warning("Africa's Talking holds the account (%s): the operator must act before it sends again", reason)
    return SendError(reason)


def classify_http(status: int, body: str, headers) -> SendError:
    """What an HTTP error of the messaging API means: the message is never at fault for these."""
    reason = f"africastalking http {status} {body.strip()[:120]}".strip()[:300]
    if status == 429 or status >= 500:
        return SendError(reason, retry_after=retry_after(headers.get("retry-after")))
    if status in (401, 403):
        log.warning("Africa's Talking refused the account (%s): check AT_USERNAME and AT_API_KEY", status)
        return SendError(reason)  # retried: the operator must fix the account, the message is fine
    return SendError(reason, permanent=True)
