"""One background worker process, configured from the environment like `clusterbot worker`.

    python -m benchmarks.worker [--no-dispatcher] [--no-scheduler]

It calls the same bot.runtime.start_workers as `clusterbot worker`, with switches the multi-process
tests and the broadcast benchmark need: dispatchers only, or schedulers only. It does not migrate
(the caller prepared the database), prints `ready` once started, and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bot.config import Settings
from bot.runtime import start_workers
from storage.db import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dispatcher", action="store_true", help="do not send the outbox")
    parser.add_argument("--no-scheduler", action="store_true", help="do not stand for scheduler leader")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs every request at INFO
    settings = Settings.from_env()
    db = make_engine(settings.database_url)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    _dispatcher, stop = start_workers(db, settings, with_scheduler=not args.no_scheduler,
                                      with_dispatcher=not args.no_dispatcher)
    print("ready", flush=True)
    while not stopping.wait(0.2):
        pass
    stop()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
