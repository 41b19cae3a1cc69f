"""A real HTTP server on 127.0.0.1 that records every request and injects provider faults on demand."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    """One request as the fake saw it, and the status it answered."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    status: int = 0
    response: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """What the next matching call gets instead of success: a status (0: no fault) and/or a delay."""

    status: int = 0
    retry_after: float | None = None
    code: int | None = None
    message: str = ""
    delay: float = 0.0


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # sent instead of the JSON body, as text/html (a proxy's error page)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for the client's delayed ACK
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet: tests read `fake.requests`, not stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query))
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            try:
                loaded = json.loads(raw)
                params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()})
            except (ValueError, AttributeError):
                pass
        elif raw:
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        record = Recorded(self.command, split.path, dict(self.headers.items()), params)
        answer = self.server.fake.dispatch(record)
        body = json.dumps(answer.body).encode() if answer.raw is None else answer.raw.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json" if answer.raw is None else "text/html")
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting (a timeout test)

    do_GET = do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, port: int, fake: FakeServer):
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeServer:
    """Base of the fake providers: lifecycle, recording, faults and an optional rate limit.

    Subclasses implement `answer(record) -> Answer` for a successful call and `error(record, fault)`
    for an injected one, and set `fault_match`: the path substring that faults apply to.
    """

    fault_match = ""

    def __init__(self):
        self.port = free_port()
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._rate: float | None = None
        self._window: deque[float] = deque()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        """Listen (again) on the same port."""
        if self._httpd is None:
            self._httpd = _Server(self.port, self)
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{type(self).__name__}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    refuse = stop
    accept = start

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail(self, times: int = 1, status: int = 500, *, retry_after: float | None = None,
             code: int | None = None, message: str = "") -> None:
        """The next `times` matching calls are answered with this error instead of succeeding."""
        with self.lock:
            self._faults.extend(Fault(status, retry_after, code, message) for _ in range(times))

    def slow(self, seconds: float, times: int = 1) -> None:
        """The next `times` matching calls succeed only after `seconds` (longer than a client timeout)."""
        with self.lock:
            self._faults.extend(Fault(delay=seconds) for _ in range(times))

    def limit_rate(self, per_second: float | None) -> None:
        """Answer 429 (retry after 1 s) to matching calls beyond `per_second` in any one-second window."""
        with self.lock:
            self._rate, self._window = per_second, deque()

    def calls(self, match: str | None = None) -> list[Recorded]:
        """Recorded requests whose path contains `match` (default: the sending endpoint)."""
        match = self.fault_match if match is None else match
        with self.lock:
            return [r for r in self.requests if match in r.path]

    @property
    def throttled(self) -> int:
        """How many calls were answered 429."""
        return sum(1 for r in self.calls("") if r.status == 429)

    def dispatch(self, record: Recorded) -> Answer:
        fault = self._take_fault(record)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            answer = self.error(record, fault)
        else:
            answer = self.answer(record)
        with self.lock:
            record.status, record.response = answer.status, answer.body
            self.requests.append(record)
        return answer

    def _take_fault(self, record: Recorded) -> Fault | None:
        if self.fault_match not in record.path:
            return None
        with self.lock:
            if self._faults:
                return self._faults.popleft()
            if self._rate is not None:
                now = time.monotonic()
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= self._rate:
                    return Fault(429, retry_after=1, message="rate limit exceeded")
                self._window.append(now)
        return None

    def answer(self, record: Recorded) -> Answer:
        raise NotImplementedError

    def error(self, record: Recorded, fault: Fault) -> Answer:
        raise NotImplementedError
