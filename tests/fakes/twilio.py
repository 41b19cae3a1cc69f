"""A fake Twilio REST API: the Messages resource, with Twilio's error bodies and Retry-After."""

from __future__ import annotations

import base64
import itertools

from tests.fakes.server import Answer, FakeServer, Fault, Recorded

ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_MESSAGES = {400: "Invalid parameter", 401: "Authenticate", 403: "Forbidden", 429: "Too Many Requests",
                    500: "Internal Server Error", 503: "Service Unavailable"}
CODE_MESSAGES = {21211: "The 'To' number is not a valid phone number.",
                 21610: "Attempt to send to unsubscribed recipient",
                 21614: "'To' number is not a valid mobile number",
                 21612: "The 'To' phone number is not currently reachable via SMS"}


class FakeTwilio(FakeServer):
    """POST /2010-04-01/Accounts/{sid}/Messages.json answers 201 with a message resource.

    `credentials=(sid, token)` makes it check HTTP basic auth (401, code 20003, otherwise).
    """

    fault_match = "/Messages.json"

    def __init__(self, credentials: tuple[str, str] | None = None):
        super().__init__()
        self.credentials = credentials
        self._sids = itertools.count(1)

    @property
    def messages(self) -> list[dict[str, str]]:
        """Messages accepted (201): their form fields plus the `Sid` given back."""
        return [dict(r.params, Sid=r.response["sid"]) for r in self.calls() if r.status == 201]

    def answer(self, record: Recorded) -> Answer:
        if record.method != "POST" or not record.path.endswith("/Messages.json"):
            return _error(404, 20404, "The requested resource was not found")
        if self.credentials and not _auth_ok(record.headers.get("Authorization", ""), self.credentials):
            return _error(401, 20003, "Authenticate")
        if not record.params.get("To") or not record.params.get("Body"):
            return _error(400, 21602, "Message body is required.")
        sid = f"SM{next(self._sids):032x}"
        body = {"sid": sid, "status": "queued", "to": record.params["To"], "body": record.params["Body"],
                "from": record.params.get("From"), "account_sid": record.path.split("/")[3],
                "num_segments": "1", "direction": "outbound-api", "error_code": None, "error_message": None}
        return Answer(201, body)

    def error(self, record: Recorded, fault: Fault) -> Answer:
        status = fault.status
        code = fault.code or {401: 20003, 429: 20429, 500: 20500, 503: 20503}.get(status, status)
        message = fault.message or CODE_MESSAGES.get(code) or DEFAULT_MESSAGES.get(status, "Error")
        answer = _error(status, code, message)
        if fault.retry_after is not None:
            answer.headers["Retry-After"] = str(int(fault.retry_after))
        return answer


def _error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"code": code, "message": message, "status": status,
                           "more_info": f"https://www.twilio.com/docs/errors/{code}"})


def _auth_ok(header: str, credentials: tuple[str, str]) -> bool:
    expected = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
    return header == f"Basic {expected}"
