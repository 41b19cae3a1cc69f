"""Worker processes for the multi-process tests: `python -m benchmarks.worker` with the test's settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.config import Settings

REPO = Path(__file__).resolve().parent.parent


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment `Settings.from_env` reads in the child: the test's database and the fake Twilio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_", "DATABASE_"))}
    env.update(DATABASE_URL=settings.database_url, PUBLIC_BASE_URL=settings.public_base_url,
               TWILIO_ACCOUNT_SID=settings.twilio_account_sid, TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
               TWILIO_FROM_NUMBER=settings.twilio_from_number, TWILIO_API_BASE=settings.twilio_api_base,
               SMS_RATE=str(settings.sms_rate), SIMULATOR="0", LEADER_INTERVAL="0.5",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])))
    env.update(extra)
    return env


class Worker:
    """One `benchmarks.worker` child; its log (stderr) goes to a file the test reads."""

    def __init__(self, env: dict[str, str], log: Path, *flags: str):
        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", *flags], env=env,
                                         cwd=log.parent, stdout=subprocess.PIPE, stderr=err)
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError(f"worker did not start: {self.text()[-2000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def leads(self) -> bool:
        return "now leads the scheduler" in self.text()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when a machine or container dies."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc.stdout.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `condition()` holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
