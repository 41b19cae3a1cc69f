"""Quiet by default: the real `clusterbot` process prints what its user asked for and nothing else (no
alembic lines on each call, none from APScheduler or uvicorn, no log lines inside the terminal chat,
which shows a prompt); LOG_LEVEL brings the bot's own lines back, DEBUG the libraries' too; whatever the
bot leaves beside its database is ignored by git."""

import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import LOG_LEVELS, Settings

ROOT = Path(__file__).resolve().parent.parent
LOG_LINE = re.compile(r"\b(DEBUG|INFO|WARNING)\b|alembic|apscheduler|Uvicorn|Started server", re.I)
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")


def _env(**extra: str) -> dict[str, str]:
    """The process environment without any of the bot's settings: the embedded default in the cwd."""
    return {**{k: v for k, v in os.environ.items() if k in KEEP}, "LEADER_INTERVAL": "0.2", **extra}


def clusterbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=120)


def _running(cwd: Path, seconds: float, *args: str, until: str | Path | None = None, **env: str) -> str:
    """Start a long-running command, let it work `seconds` and then until `until` holds (a line it printed,
    or a file it made; a minute at most, so a loaded machine waits longer instead of failing), stop it as a
    PaaS would (SIGTERM): what it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(proc.stdout), daemon=True)
    reader.start()
    time.sleep(seconds)

    def held() -> bool:
        if until is None:
            return True
        return until.exists() if isinstance(until, Path) else until in "".join(said)

    deadline = time.monotonic() + 60
    while not held() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    return "".join(said)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv", [("--help",), ("facilitator", "--help"), ("migrate",), ("cluster", "list"),
                                  ("cluster", "create", "Other", "--code", "OTHER"),
                                  ("export", "members", "--cluster", "TEST")])
def test_cli_calls_print_no_log_lines(tmp_path, argv):
    clusterbot(tmp_path, "cluster", "create", "Local", "--code", "TEST")  # the first call also migrates
    done = clusterbot(tmp_path, *argv)
    assert done.returncode == 0, done.stderr
    assert not LOG_LINE.search(done.stderr), done.stderr
    assert not LOG_LINE.search(done.stdout), done.stdout


def test_the_first_call_that_builds_the_database_is_quiet_too(tmp_path):
    done = clusterbot(tmp_path, "cluster", "list")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_log_level_brings_the_bots_own_lines_back_and_a_wrong_one_is_refused(tmp_path):
    clusterbot(tmp_path, "cluster", "create", "Local", "--code", "TEST")
    worker = _running(tmp_path, 3, "worker", LOG_LEVEL="info", until="now leads the scheduler")
    assert "INFO bot.leader: this process now leads the scheduler" in worker
    assert "apscheduler" not in worker, "APScheduler's routine lines stay quiet at INFO"
    assert "apscheduler" in _running(tmp_path, 3, "worker", LOG_LEVEL="DEBUG", until="apscheduler")
    done = clusterbot(tmp_path, "cluster", "list", LOG_LEVEL="loud")
    assert done.returncode == 2 and "LOG_LEVEL" in done.stderr and "Traceback" not in done.stderr


def test_serve_says_where_it_listens_and_nothing_else(tmp_path):
    clusterbot(tmp_path, "cluster", "create", "Local", "--code", "TEST")
    port = _free_port()
    said = _running(tmp_path, 4, "serve", "--port", str(port), until=f"127.0.0.1:{port}")
    assert f"clusterbot on http://127.0.0.1:{port} (simulator on)" in said
    assert [line for line in said.splitlines() if line.strip()] == [
        f"clusterbot on http://127.0.0.1:{port} (simulator on)"], said


def test_files_left_beside_the_database_are_ignored_by_git(tmp_path):
    clusterbot(tmp_path, "cluster", "create", "Local", "--code", "TEST")
    _running(tmp_path, 3, "worker", until=tmp_path / "clusterbot.db.scheduler.lock")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "clusterbot.db.scheduler.lock" in left and "clusterbot.db" in left
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *left], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert ignored == left, f"not ignored: {sorted(set(left) - set(ignored))}"


def test_terminal_chat_shows_a_prompt_and_no_log_lines(tmp_path):
    clusterbot(tmp_path, "cluster", "create", "Local", "--code", "TEST")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "chat", "--from", "0712000001"], cwd=tmp_path,
                            env=_env(), stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    screen = ""

    def read_until_prompt() -> str:
        nonlocal screen
        start, deadline = len(screen), time.monotonic() + 60
        while not (len(screen) > start and screen.endswith("> ")) and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                screen += os.read(leader, 4096).decode(errors="replace").replace("\r\n", "\n")
        assert screen.endswith("> "), screen
        return screen[start:]

    try:
        read_until_prompt()
        for text in ("JOIN", "Asha Juma", "HELP"):
            os.write(leader, f"{text}\n".encode())
            answer = read_until_prompt()
            assert "\n< " in answer, answer
        os.write(leader, b"\n")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        os.close(leader)
    assert not LOG_LINE.search(screen), screen
    assert screen.count("> ") >= 4


def test_log_level_setting():
    assert Settings.from_env({}).log_level == "WARNING"
    assert [Settings.from_env({"LOG_LEVEL": f" {name.lower()} "}).log_level for name in LOG_LEVELS] == list(LOG_LEVELS)
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        Settings.from_env({"LOG_LEVEL": "verbose"})
