"""A fake Telegram Bot API: getMe, sendMessage, getUpdates, setWebhook/deleteWebhook, answerCallbackQuery.

Also builders for the Update JSON Telegram posts to a webhook or returns from getUpdates.
"""

from __future__ import annotations

import itertools
import json
import time

from tests.fakes.server import Answer, FakeServer, Fault, Recorded

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Cluster Bot", "username": "cluster_test_bot"}
DESCRIPTIONS = {400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by the user",
                429: "Too Many Requests: retry after {retry}", 500: "Internal Server Error",
                502: "Bad Gateway"}
_update_ids = itertools.count(100001)
_message_ids = itertools.count(1)


def _user(chat_id: int) -> dict:
    return {"id": chat_id, "is_bot": False, "first_name": "Asha", "language_code": "en"}


def _message(chat_id: int, **fields) -> dict:
    return {"message_id": next(_message_ids), "date": int(time.time()), "from": _user(chat_id),
            "chat": {"id": chat_id, "type": "private", "first_name": "Asha"}, **fields}


def text_update(chat_id: int, text: str, update_id: int | None = None) -> dict:
    """A private-chat text message, as Telegram delivers it."""
    return {"update_id": update_id or next(_update_ids), "message": _message(chat_id, text=text)}


def button_update(chat_id: int, data: str, update_id: int | None = None) -> dict:
    """A press on an inline button whose callback_data is `data`."""
    message = _message(chat_id, text="(the question)")
    message["from"] = BOT_USER
    return {"update_id": update_id or next(_update_ids),
            "callback_query": {"id": str(next(_message_ids)), "from": _user(chat_id), "message": message,
                               "chat_instance": "1", "data": data}}


def contact_update(chat_id: int, phone: str, *, user_id: int | None = None, update_id: int | None = None) -> dict:
    """A shared contact; by default the sender's own (what the "share my phone number" button sends)."""
    contact = {"phone_number": phone, "first_name": "Asha", "user_id": chat_id if user_id is None else user_id}
    return {"update_id": update_id or next(_update_ids), "message": _message(chat_id, contact=contact)}


class FakeTelegram(FakeServer):
    """POST {url}/bot{token}/{method}; faults apply to sendMessage (change `fault_match` for others).

    `blocked` and `missing` are sets of chat ids (str) that answer 403 "blocked" / 400 "chat not found".
    """

    fault_match = "/sendMessage"

    def __init__(self, token: str | None = None):
        super().__init__()
        self.token = token
        self.blocked: set[str] = set()
        self.missing: set[str] = set()
        self.webhook: dict[str, str] = {}
        self._updates: list[dict] = []

    @property
    def sent(self) -> list[dict]:
        """sendMessage calls that succeeded: chat_id, text and reply_markup (decoded)."""
        out = []
        for r in self.calls("/sendMessage"):
            if r.status == 200:
                params = dict(r.params)
                if "reply_markup" in params:
                    params["reply_markup"] = json.loads(params["reply_markup"])
                out.append(params)
        return out

    def push(self, *updates: dict) -> None:
        """Queue updates for getUpdates."""
        with self.lock:
            self._updates.extend(updates)

    def answer(self, record: Recorded) -> Answer:
        parts = record.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot") or (self.token and parts[0] != f"bot{self.token}"):
            return _fail(404, "Not Found")
        method = parts[1]
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _fail(404, "Not Found: method not found")
        return handler(record.params)

    def error(self, record: Recorded, fault: Fault) -> Answer:
        description = fault.message or DESCRIPTIONS.get(fault.status, "Error")
        retry = int(fault.retry_after) if fault.retry_after is not None else None
        return _fail(fault.status, description.format(retry=retry),
                     {"retry_after": retry} if retry is not None else None)

    def _getMe(self, params: dict) -> Answer:  # noqa: N802 - Bot API method names
        return _ok(BOT_USER)

    def _sendMessage(self, params: dict) -> Answer:  # noqa: N802
        chat = params.get("chat_id", "")
        if not chat or not params.get("text"):
            return _fail(400, "Bad Request: message text is empty")
        if chat in self.blocked:
            return _fail(403, DESCRIPTIONS[403])
        if chat in self.missing:
            return _fail(400, DESCRIPTIONS[400])
        message = _message(int(chat), text=params["text"])
        message["from"] = BOT_USER
        return _ok(message)

    def _answerCallbackQuery(self, params: dict) -> Answer:  # noqa: N802
        return _ok(True)

    def _setWebhook(self, params: dict) -> Answer:  # noqa: N802
        self.webhook = dict(params)
        return _ok(True)

    def _deleteWebhook(self, params: dict) -> Answer:  # noqa: N802
        self.webhook = {}
        return _ok(True)

    def _getWebhookInfo(self, params: dict) -> Answer:  # noqa: N802
        return _ok({"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)})

    def _getUpdates(self, params: dict) -> Answer:  # noqa: N802
        if self.webhook:
            return _fail(409, "Conflict: can't use getUpdates method while webhook is active; "
                              "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        while True:
            with self.lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                found = self._updates[: int(params.get("limit") or 100)]
            if found or time.monotonic() >= deadline:
                return _ok(found)
            time.sleep(0.02)


def _ok(result) -> Answer:
    return Answer(200, {"ok": True, "result": result})


def _fail(status: int, description: str, parameters: dict | None = None) -> Answer:
    body = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Answer(status, body)
