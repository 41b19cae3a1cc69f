"""Pytest fixtures for the app with Africa's Talking (SMS and USSD) beside Twilio, both against their fakes:
`pytest_plugins = ("tests.fakes.fixtures", "tests.fakes.africastalking_fixtures")` in a test module."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.africastalking import AfricasTalkingTransport
from bot.channels.twilio_sms import TwilioTransport
from bot.config import Settings
from bot.dispatch import Dispatcher
from storage.clusters import Cluster
from storage.db import session_scope
from tests.conftest import with_settings
from tests.fakes.africastalking import API_KEY, KEY, SERVICE, SHORTCODE, USERNAME


@pytest.fixture
def at_settings(settings, fake_at, fake_twilio) -> Settings:
    """Both providers configured (Twilio stays the default); AT and Twilio both point at their fakes."""
    return with_settings(settings, at_username=USERNAME, at_api_key=API_KEY, at_api_base=fake_at.url,
                         at_from=SHORTCODE, at_webhook_key=KEY, twilio_api_base=fake_twilio.url, sms_rate=1000.0,
                         ussd_service_code=SERVICE)


@pytest.fixture
def dispatcher(db, at_settings, fake_clock):
    d = Dispatcher(db, at_settings, [TwilioTransport(at_settings, timeout=2),
                                     AfricasTalkingTransport(at_settings, timeout=2)], clock=fake_clock)
    yield d
    d.close()


@pytest.fixture
def at_client(at_settings, db, dispatcher):
    app = create_app(at_settings, db)
    app.state.dispatcher = dispatcher
    with TestClient(app, client=("127.0.0.1", 50000)) as c:
        yield c


@pytest.fixture
def at_cluster(db, cluster) -> Cluster:
    """The test cluster, its notices sent through Africa's Talking."""
    with session_scope(db) as s:
        row = s.get(Cluster, cluster.id)
        row.sms_provider = "africastalking"
        s.add(row)
    return row
