"""Telegram: updates in (webhook or polling), Bot API sends out, choices as inline buttons.

python-telegram-bot is asynchronous; the dispatcher and the poller are threads. Each of them owns a
`BotCaller`: one Bot and one event loop that only that caller runs, so calls from a thread are plain
blocking calls and a long poll never holds up a send.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot import engine as bot_engine
from bot.config import Settings
from bot.dispatch import SendError
from bot.engine import GlossaryIndex, Inbound  # the lookup index is part of receive()'s signature
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

# getUpdates goes through do_api_request on purpose: raw dicts, so one update the library cannot parse
# is skipped instead of failing every poll. And we read RetryAfter's seconds whichever type it has.
warnings.filterwarnings("ignore", message="Please use 'Bot.getUpdates'", category=PTBUserWarning)
warnings.filterwarnings("ignore", message=".*attribute `retry_after` will be of type", category=PTBDeprecationWarning)

WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
CONTACT = "__contact__"  # a button value: "share my phone number" (links this chat to an SMS member)
DEAD_CHAT = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


def inbound_from_update(data: object) -> Inbound | None:
    """An engine Inbound from a Telegram Update: a text, a button press, or a shared contact.

    Anything else (edits, group chats, channel posts, malformed JSON) gives None and is ignored.
    Only private chats are served: members' details must not be answered into a group.
    """
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        update = Update.de_json(dict(data), None)
        return _inbound(update)
    except Exception:  # python-telegram-bot raises whatever a malformed field provokes
        log.info("ignored a malformed Telegram update %s", data.get("update_id"))
        return None


def _inbound(update: Update) -> Inbound | None:
    provider_id = str(update.update_id)
    message = update.message
    if message is not None:
        if message.chat.type != ChatType.PRIVATE:
            return None
        phone = ""
        contact, sender = message.contact, message.from_user
        if contact is not None and sender is not None and contact.user_id == sender.id:
            phone = "+" + contact.phone_number.strip().lstrip("+")
        return Inbound(channel="telegram", address=str(message.chat.id), text=message.text or "",
                       provider_id=provider_id, contact_phone=phone)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != ChatType.PRIVATE:
            return None
        address = str(chat.id if chat is not None else query.from_user.id)
        return Inbound(channel="telegram", address=address, text=(query.data or "")[:64],
                       provider_id=provider_id)
    return None


def webhook_answer(data: object) -> dict[str, Any]:
    """What to answer a webhook call with: for a button press, the answerCallbackQuery Telegram expects
    (it stops the button's spinner) made in the webhook's own response, which costs no extra request."""
    if isinstance(data, dict) and isinstance(data.get("callback_query"), dict):
        query_id = data["callback_query"].get("id")
        if isinstance(query_id, str) and query_id:
            return {"method": "answerCallbackQuery", "callback_query_id": query_id}
    return {"ok": True}


def keyboard(buttons: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The outbox row's buttons (JSON [[label, value], ...]) as Telegram markup.

    Choices become inline buttons whose callback_data is the value (the digit an SMS user would type).
    A CONTACT button needs a reply keyboard (only those can ask for the phone number); a message without
    buttons removes any reply keyboard left from before.
    """
    pairs = _pairs(buttons)
    if not pairs:
        return ReplyKeyboardRemove()
    if any(value == CONTACT for _label, value in pairs):
        rows = [[KeyboardButton(label, request_contact=value == CONTACT)] for label, value in pairs]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    inline = [InlineKeyboardButton(label, callback_data=value.encode()[:64].decode("utf-8", "ignore"))
              for label, value in pairs]
    width = 3 if all(len(b.text) <= 12 for b in inline) else 1
    return InlineKeyboardMarkup([inline[i:i + width] for i in range(0, len(inline), width)])


def _pairs(buttons: str) -> list[tuple[str, str]]:
    try:
        loaded = json.loads(buttons) if buttons else []
    except ValueError:
        return []
    return [(str(item[0])[:64], str(item[1])) for item in loaded if isinstance(item, list | tuple) and len(item) == 2]


class BotCaller:
    """A Bot with its own event loop: blocking calls from one thread at a time."""

    def __init__(self, settings: Settings, timeout: float = 10.0, poll_timeout: float = 0.0):
        self.loop = asyncio.new_event_loop()
        self.lock = threading.Lock()
        self.task: asyncio.Task | None = None
        self.requests = (HTTPXRequest(connection_pool_size=4, connect_timeout=timeout, read_timeout=timeout,
                                      write_timeout=timeout, pool_timeout=timeout),
                         HTTPXRequest(connect_timeout=timeout, read_timeout=timeout + poll_timeout,
                                      write_timeout=timeout, pool_timeout=timeout))
        self.bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base + "/bot",
                       request=self.requests[0], get_updates_request=self.requests[1])

    def call(self, make: Callable[[Bot], Awaitable[Any]]) -> Any:
        with self.lock:
            self.task = self.loop.create_task(make(self.bot))
            try:
                return self.loop.run_until_complete(self.task)
            finally:
                self.task = None

    def cancel(self) -> None:
        """End the call in progress from another thread (a long poll when stopping)."""
        task = self.task
        if task is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(task.cancel)

    def close(self) -> None:
        """Close the HTTP pools and the loop. Safe from any thread, including one that runs its own event
        loop (uvicorn's lifespan on SIGTERM): the caller's loop then runs in a short helper thread."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._close()
            return
        helper = threading.Thread(target=self._close, name="telegram-close", daemon=True)
        helper.start()
        helper.join()

    def _close(self) -> None:
        with self.lock:
            if not self.loop.is_closed():
                try:
                    self.loop.run_until_complete(self._shutdown())
                finally:
                    self.loop.close()

    async def _shutdown(self) -> None:
        await asyncio.gather(*(request.shutdown() for request in self.requests))


class TelegramTransport:
    """Sends outbox rows with the Bot API's sendMessage (base URL TELEGRAM_API_BASE, a fake in tests)."""

    channel = "telegram"
    provider = "telegram"

    def __init__(self, settings: Settings, timeout: float = 10.0):
        self.rate = settings.telegram_rate
        self.caller = BotCaller(settings, timeout)

    def send(self, message: OutboundMessage) -> str:
        try:
            sent = self.caller.call(lambda bot: bot.send_message(chat_id=message.address, text=message.text,
                                                                 reply_markup=keyboard(message.buttons)))
        except TelegramError as exc:
            raise classify(exc) from exc
        return f"{sent.chat_id}:{sent.message_id}"

    def close(self) -> None:
        self.caller.close()


def classify(exc: TelegramError) -> SendError:
    """What a Bot API error means for the message and the chat."""
    reason = f"telegram {type(exc).__name__}: {exc.message}"[:300]
    if isinstance(exc, RetryAfter):
        return SendError(reason, retry_after=_seconds(exc))
    if isinstance(exc, Forbidden):  # blocked by the user, user deactivated, bot removed from the chat
        return SendError(reason, opt_out=True)
    if isinstance(exc, ChatMigrated):
        return SendError(reason, permanent=True)
    if isinstance(exc, BadRequest):
        return SendError(reason, opt_out=any(s in exc.message.lower() for s in DEAD_CHAT), permanent=True)
    if isinstance(exc, InvalidToken):
        log.warning("Telegram refused the bot token: check TELEGRAM_BOT_TOKEN")
    return SendError(reason)  # timeouts, refused connections, 5xx, a refused token: retried


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # an int now, a timedelta in a later python-telegram-bot
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


class Poller:
    """TELEGRAM_MODE=polling: fetch updates with getUpdates and feed them to the engine.

    For a bot that cannot be reached from the internet (a laptop, a private network). Telegram refuses
    getUpdates while a webhook is set, so the webhook is deleted first. The offset of the next update is
    kept in memory; after a restart Telegram resends the unconfirmed ones and the engine drops repeats.
    """

    def __init__(self, db: Engine, settings: Settings, wake: Callable[[], None] = lambda: None, *,
                 poll_timeout: float = 25.0, timeout: float = 10.0):
        self.db, self.settings, self.wake = db, settings, wake
        self.glossary = GlossaryIndex()
        self.poll_timeout = poll_timeout
        self.caller = BotCaller(settings, timeout, poll_timeout)
        self.offset: int | None = None
        self.prepared = False
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def prepare(self) -> None:
        """Delete any webhook: Telegram only answers getUpdates when there is none."""
        self.caller.call(lambda bot: bot.delete_webhook(drop_pending_updates=False))
        self.prepared = True

    def poll_once(self) -> int:
        """One getUpdates round; returns how many updates were handled."""
        if not self.prepared:
            self.prepare()
        kwargs: dict[str, Any] = {"timeout": int(self.poll_timeout), "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        updates = self.caller.call(lambda bot: bot.do_api_request("getUpdates", api_kwargs=kwargs))
        handled = 0
        for data in updates if isinstance(updates, list) else []:
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                continue
            self.handle(data)  # if this raises, the offset stays and the update comes again
            self.offset = data["update_id"] + 1
            handled += 1
        if handled:
            self.wake()
        return handled

    def handle(self, data: dict) -> None:
        inbound = inbound_from_update(data)
        if inbound is not None:
            bot_engine.receive(self.db, self.settings, inbound, glossary=self.glossary)
        answer = webhook_answer(data)
        if "callback_query_id" in answer:
            try:
                self.caller.call(lambda bot: bot.answer_callback_query(answer["callback_query_id"]))
            except TelegramError as exc:  # a spinner left turning is no reason to handle the update again
                log.info("answerCallbackQuery failed: %s", exc)

    def _run(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            try:
                self.poll_once()
                delay = 1.0
            except asyncio.CancelledError:
                break
            except Exception as exc:
                if isinstance(exc, Conflict):
                    self.prepared = False  # a webhook was set again meanwhile
                log.warning("Telegram polling failed (%s: %s); retrying in %.0f s", type(exc).__name__,
                            str(exc)[:200], delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 60.0)
        self.caller.close()

    def start(self) -> threading.Thread:
        self.thread = threading.Thread(target=self._run, name="telegram-poller", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self, timeout: float = 2.0) -> None:
        self.stopping.set()
        self.caller.cancel()
        if self.thread is not None:
            self.thread.join(timeout)


def set_webhook(settings: Settings, url: str | None = None) -> str:
    """Tell Telegram to post updates to this deployment, signed with TELEGRAM_WEBHOOK_SECRET.

    The URL defaults to PUBLIC_BASE_URL + /webhooks/telegram; Telegram only calls ports 443, 80, 88, 8443.
    """
    if not settings.telegram_bot_token or not settings.telegram_webhook_secret:
        raise ValueError("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first: "
                         "the app refuses webhook calls without the secret")
    url = url or settings.public_base_url + WEBHOOK_PATH
    caller = BotCaller(settings)
    try:
        caller.call(lambda bot: bot.set_webhook(url, secret_token=settings.telegram_webhook_secret,
                                                allowed_updates=ALLOWED_UPDATES))
    finally:
        caller.close()
    log.info("Telegram webhook set to %s", url)
    return url
