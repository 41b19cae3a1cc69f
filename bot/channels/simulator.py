"""The local simulator: a phone-like page and a terminal chat that speak to the engine as SMS (or USSD) would."""

from __future__ import annotations

import uuid

from storage.messages import OutboundMessage

SERVICE_CODE = "*384#"  # what the simulator and `chat --ussd` dial when USSD_SERVICE_CODE is not set


def provider_id() -> str:
    return "sim-" + uuid.uuid4().hex


class SimulatorTransport:
    """Stands in for an SMS provider when none is configured: messages are held for the page to fetch."""

    channel = "sms"
    provider = "simulator"
    rate = 1000.0

    def send(self, message: OutboundMessage) -> str:
        return f"sim-out-{message.id}"
