"""Reading request bodies with a ceiling: refused by Content-Length, and never read past the limit.

Every endpoint that reads a body (provider webhooks, the simulator, the dashboard's forms) reads it here,
before it checks any signature: a stranger's 500 MB post costs at most `limit` bytes of memory.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import Message


class BodyTooLarge(Exception):
    """The body is (or says it is) over the limit; nothing more of it was read."""


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdecimal():
        raise BodyTooLarge("unreadable Content-Length")
    return int(value)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; raises BodyTooLarge as soon as it passes `limit` bytes."""
    length = declared_length(request)
    if length is not None and length > limit:
        raise BodyTooLarge(f"Content-Length {length} over {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body over {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int) -> dict[str, str] | None:
    """The posted form's text fields, or None when it is malformed; raises BodyTooLarge past `limit`."""
    body = await read_body(request, limit)
    plain = _plain_form(request, body)
    if plain is not None:
        return plain
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form: FormData = await Request(request.scope, replay).form()
    except Exception:  # a malformed multipart or urlencoded body, whatever the parser raises
        return None
    return {k: v for k, v in form.items() if isinstance(v, str)}


FIELDS = 1000  # what Starlette's form parser accepts; more is a malformed form
_URLENCODED = "application/x-www-form-urlencoded"
_PLAIN = re.compile(rb"[^&;=]+=[^&;=]*(?:&[^&;=]+=[^&;=]*)*")


def _plain_form(request: Request, body: bytes) -> dict[str, str] | None:
    """The fields of a urlencoded body in its plain shape (`name=value&...`, every field one `=`, no `;`:
    what Twilio and Africa's Talking post), read exactly as Starlette's parser reads them (latin-1, then
    unquote_plus; the last of a repeated name) without its per-byte callbacks; None for anything else,
    which Starlette's parser then reads (tests/test_webbody.py compares the two)."""
    if request.headers.get("content-type", "").partition(";")[0].strip() != _URLENCODED:
        return None
    if not _PLAIN.fullmatch(body) or body.count(b"&") >= FIELDS:
        return None
    return {unquote_plus(name): unquote_plus(value)
            for name, _, value in (field.partition("=") for field in body.decode("latin-1").split("&"))}
