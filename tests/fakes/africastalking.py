"""A fake Africa's Talking messaging API: POST /version1/messaging with per-recipient status codes."""

from __future__ import annotations

import itertools

from tests.fakes.server import Answer, FakeServer, Fault, Recorded

USERNAME = "sandbox"
API_KEY = "at-test-key-0123456789"
KEY = "cb-key-0123456789"  # the app's AT_WEBHOOK_KEY in tests: every AT callback URL carries it as ?key=
SHORTCODE = "15555"
SERVICE = "*384*123#"  # USSD_SERVICE_CODE
STATUS_NAMES = {100: "Processed", 101: "Success", 102: "Queued", 401: "RiskHold", 402: "InvalidSenderId",
                403: "InvalidPhoneNumber", 404: "UnsupportedNumberType", 405: "InsufficientBalance",
                406: "UserInBlacklist", 407: "CouldNotRoute", 409: "DoNotDisturbRejection",
                500: "InternalServerError", 501: "GatewayError", 502: "RejectedByGateway"}


class FakeAfricasTalking(FakeServer):
    """Checks the apiKey header (401 otherwise) and the username, and answers SMSMessageData.Recipients.

    `codes[number] = 406` gives that recipient statusCode 406 (UserInBlacklist); every other number gets 101.
    `fail(...)` injects HTTP errors (429 with Retry-After, 5xx); `garble(times)` answers 200 with HTML.
    """

    fault_match = "/version1/messaging"

    def __init__(self, username: str = USERNAME, api_key: str = API_KEY):
        super().__init__()
        self.username, self.api_key = username, api_key
        self.codes: dict[str, int] = {}
        self.garbled = 0
        self._ids = itertools.count(1)

    def garble(self, times: int = 1) -> None:
        """The next `times` sends are answered 200 with an HTML page instead of JSON."""
        with self.lock:
            self.garbled += times

    @property
    def messages(self) -> list[dict[str, str]]:
        """Messages accepted: their form fields plus the `messageId` given back."""
        found = []
        for r in self.calls():
            recipients = r.response.get("SMSMessageData", {}).get("Recipients", []) if r.status == 201 else []
            found += [dict(r.params, messageId=x["messageId"]) for x in recipients if x["statusCode"] in (100, 101, 102)]
        return found

    def answer(self, record: Recorded) -> Answer:
        if record.method != "POST" or record.path != "/version1/messaging":
            return Answer(404, {"error": "not found"})
        with self.lock:
            garbled, self.garbled = self.garbled > 0, max(0, self.garbled - 1)
        if garbled:
            return Answer(200, {}, raw="<html><body>Bad gateway</body></html>")
        headers = {k.lower(): v for k, v in record.headers.items()}
        if headers.get("apikey") != self.api_key or record.params.get("username") != self.username:
            return Answer(401, {"error": "The supplied authentication is invalid"})
        if headers.get("accept") != "application/json":
            return Answer(406, {"error": "Accept: application/json expected"})
        to, text = record.params.get("to", ""), record.params.get("message", "")
        if not to or not text:
            return Answer(400, {"error": "Must have to and message"})
        code = self.codes.get(to, 101)
        ok = code in (100, 101, 102)
        recipient = {"statusCode": code, "number": to, "status": STATUS_NAMES.get(code, "Failed"),
                     "cost": "TZS 20.0000" if ok else "0", "messageId": f"ATXid_{next(self._ids):032x}" if ok else "None"}
        return Answer(201, {"SMSMessageData": {"Message": f"Sent to {int(ok)}/1 Total Cost: TZS 20.0000",
                                               "Recipients": [recipient]}})

    def error(self, record: Recorded, fault: Fault) -> Answer:
        answer = Answer(fault.status, {"error": fault.message or "error"})
        if fault.retry_after is not None:
            answer.headers["Retry-After"] = str(int(fault.retry_after))
        return answer
