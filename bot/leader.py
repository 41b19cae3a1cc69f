"""One scheduler leads at a time: APScheduler's job store must never be shared by two running schedulers.

PostgreSQL: a session-level advisory lock held on a dedicated connection; when the leader dies its
connection closes, the lock is released and a follower takes over at its next try.
SQLite: an exclusive file lock beside the database file (one machine by definition).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 0x636C7573  # "clus": the scheduler's advisory lock id


class LeaderLock:
    def __init__(self, db: Engine):
        self.db = db
        self._conn = None
        self._fh = None

    def try_acquire(self) -> bool:
        if self.db.dialect.name == "postgresql":
            conn = self.db.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return bool(got)
        path = (self.db.url.database or "clusterbot.db") + ".scheduler.lock"
        fh = open(path, "a+")  # noqa: SIM115 - held open for as long as this process leads
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return True

    def still_held(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1")).scalar()
                self._conn.commit()
                return True
            except Exception:
                log.warning("lost the scheduler lock connection")
                conn, self._conn = self._conn, None
                try:
                    conn.invalidate()
                except Exception:
                    log.debug("the lost lock connection could not be discarded", exc_info=True)
                return False
        return self._fh is not None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._conn.close()
            finally:
                self._conn = None
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Leadership:
    """Runs `lead()` while this process holds the lock; `lead` returns a stop function."""

    def __init__(self, db: Engine, lead: Callable[[], Callable[[], None]], interval: float = 5.0):
        self.lock = LeaderLock(db)
        self.lead, self.interval = lead, interval
        self.stopping = threading.Event()
        self.leading = threading.Event()
        self._stop_lead: Callable[[], None] | None = None
        self.thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._turn()
            except Exception:  # the database is away: give up the lead, try again at the next turn
                log.exception("scheduler leadership check failed")
                self._step_down()
            self.stopping.wait(self.interval)
        self._step_down()

    def _turn(self) -> None:
        """A follower tries to take the lock; the leader checks it still holds it, and steps down if not."""
        if not self.leading.is_set():
            if self.lock.try_acquire():
                self.leading.set()
                log.info("this process now leads the scheduler")
                self._stop_lead = self.lead()
        elif not self.lock.still_held():
            log.warning("lost the scheduler lock: stepping down")
            self._step_down()

    def _step_down(self) -> None:
        """Stop scheduling first, then free the lock, so two schedulers never overlap."""
        try:
            if self._stop_lead is not None:
                self._stop_lead()
        finally:
            self._stop_lead = None
            self.leading.clear()
            try:
                self.lock.release()
            except Exception:
                log.exception("releasing the scheduler lock failed; it goes with the connection")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
