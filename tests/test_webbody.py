"""A webhook's form reads the same through the plain-form short cut as through Starlette's parser."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from bot import webbody

ALPHABET = st.sampled_from(list("ab=&;%+ 2Fé\u1200\n") + ["%2", "%41", "%C3%A9", "%E1%88%80", "%ZZ"])


def request(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Request:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}, receive)


def by_starlette(body: bytes, content_type: str) -> dict[str, str] | None:
    async def parse():
        try:
            form = await request(body, content_type).form()
        except Exception:
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return asyncio.run(parse())


def by_bot(body: bytes, content_type: str) -> dict[str, str] | None:
    return asyncio.run(webbody.read_form(request(body, content_type), 64 * 1024))


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join),
       st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
                        "text/plain", ""]))
def test_any_body_reads_as_starlette_reads_it(text, content_type):
    body = text.encode("utf-8")
    assert by_bot(body, content_type) == by_starlette(body, content_type)


def test_a_twilio_form_takes_the_short_cut_and_reads_every_field(monkeypatch):
    body = b"From=%2B255712000006&Body=DEF+ushirika+%C3%A9&MessageSid=SM1&To=&Body=BAL"
    assert webbody._plain_form(request(body), body) == {"From": "+255712000006", "Body": "BAL", "MessageSid": "SM1",
                                                        "To": ""}
    assert by_bot(body, "application/x-www-form-urlencoded") == by_starlette(body, "application/x-www-form-urlencoded")


def test_too_many_fields_is_malformed_either_way():
    body = b"&".join(b"a%d=1" % i for i in range(webbody.FIELDS + 1))
    assert by_starlette(body, "application/x-www-form-urlencoded") is None
    assert by_bot(body, "application/x-www-form-urlencoded") is None
    fits = b"&".join(b"a%d=1" % i for i in range(webbody.FIELDS))
    assert len(by_bot(fits, "application/x-www-form-urlencoded")) == webbody.FIELDS
