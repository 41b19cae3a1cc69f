"""Fake providers for tests: real HTTP servers on 127.0.0.1 that record requests and misbehave on demand.

Use them from a test module with

    pytest_plugins = ("tests.fakes.fixtures",)

which gives the fixtures `fake_twilio` (a FakeTwilio) and `fake_telegram` (a FakeTelegram), each started
on a free port and stopped after the test, and `fake_clock`. (The fixtures live in their own module so
that importing the classes from `tests.fakes` does not stop pytest from loading them as a plugin.) Point the bot at them with tests.conftest.with_settings:

    with_settings(settings, twilio_api_base=fake_twilio.url)
    with_settings(settings, telegram_bot_token="123:TEST", telegram_webhook_secret="s3cret",
                  telegram_api_base=fake_telegram.url)

Both (tests/fakes/server.py FakeServer):
- `url`; `start()` / `stop()` (stopped: connections are refused; `start()` listens again on the same port;
  `refuse()` / `accept()` are the same two); usable as a context manager.
- `requests`: every request as a `Recorded(method, path, headers, params, status, response, at)`;
  `calls(match)` filters them by path substring (default: the sending endpoint).
- `fail(times=1, status=500, retry_after=None, code=None, message="")`: the next `times` sends answer
  that error (429 with `retry_after` sets Twilio's Retry-After header or Telegram's
  parameters.retry_after). `slow(seconds, times=1)`: the next sends answer only after `seconds`.
  `limit_rate(per_second)`: sends beyond that rate in any one-second window get 429 (retry after 1 s);
  `throttled` counts the 429s answered. Faults apply to calls whose path contains `fault_match`.

FakeTwilio (tests/fakes/twilio.py): POST /2010-04-01/Accounts/{sid}/Messages.json → 201 and a message
resource. `messages`: accepted messages' form fields (To, From or MessagingServiceSid, Body,
StatusCallback) plus `Sid`. Error bodies carry Twilio's `code`: `fail(1, 400, code=21211)` is an invalid
number, `fail(1, 400, code=21610)` an unsubscribed recipient. `FakeTwilio(credentials=(sid, token))`
checks basic auth.

FakeTelegram (tests/fakes/telegram.py): /bot{token}/{method} for getMe, sendMessage, getUpdates
(honours offset, a short long-poll, 409 while a webhook is set), setWebhook, deleteWebhook,
getWebhookInfo, answerCallbackQuery. `sent`: successful sendMessage params with `reply_markup` decoded.
`blocked` / `missing`: sets of chat ids (str) answered 403 "bot was blocked by the user" / 400 "chat not
found". `push(*updates)` queues updates for getUpdates; `webhook` holds the last setWebhook params.
Builders: `text_update(chat_id, text)`, `button_update(chat_id, data)`, `contact_update(chat_id, phone)`.

FakeAfricasTalking (tests/fakes/africastalking.py, fixture `fake_at`): POST /version1/messaging checks the
`apiKey` header and `username` (401 otherwise) and answers SMSMessageData.Recipients; `codes[number] = 406`
sets that number's per-recipient statusCode (default 101); `garble(times)` answers 200 with HTML;
`messages`: accepted sends' form fields (username, to, message, from, linkId) plus `messageId`.

FakeClock (tests/fakes/clock.py): `monotonic`, `sleep` (advances time, records `slept`) and `now` for
`Dispatcher(..., clock=fake_clock)`: rate limits and backoffs without waiting (fixture `fake_clock`).

tests/fakes/outbox.py: `queue(db, address, count, text, channel=..., buttons=...)` puts notices in the
outbox and returns their ids; `message(db, id)` and `identity(db, channel, address)` read rows back.
"""

from __future__ import annotations

from tests.fakes.africastalking import FakeAfricasTalking
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram, button_update, contact_update, text_update
from tests.fakes.twilio import FakeTwilio

__all__ = ["FakeAfricasTalking", "FakeClock", "FakeTelegram", "FakeTwilio", "button_update", "contact_update", "text_update"]
