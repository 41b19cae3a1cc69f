"""Pytest fixtures for the fake providers: `pytest_plugins = ("tests.fakes.fixtures",)` in a test module."""

from __future__ import annotations

import pytest

from tests.fakes.africastalking import FakeAfricasTalking
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_telegram():
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_at():
    with FakeAfricasTalking() as fake:
        yield fake


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
