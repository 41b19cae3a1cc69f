"""What every benchmark shares: the machine it ran on, percentiles, peak memory, the JSON result file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from storage.clusters import Cluster, create_cluster
from storage.db import make_engine, migrate, session_scope

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, object]:
    """CPU model, core count and RAM: figures mean little without them."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "nproc": os.cpu_count(), "ram_gb": round(mem_kb / 1024 ** 2, 1),
            "python": platform.python_version(), "system": platform.platform()}


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: with few samples it reports a time that really occurred."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_ms(values: list[float]) -> dict[str, float]:
    """p50, p95 and mean of durations given in seconds, in milliseconds."""
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2),
            "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else 0.0, "samples": len(values)}


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a running process: the most resident memory it has had so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def add_common_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="a small run that proves the benchmark works")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for <name>.json")


def parser_for(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line: described by its docstring's first line, with --quick and --results."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_common_arguments(parser)
    return parser


def measure(name: str, run: Callable[[argparse.Namespace], dict], args: argparse.Namespace) -> int:
    """Run the benchmark, write <results>/<name>.json, and return the exit status."""
    write_result(name, run(args), args)
    return 0


def write_result(name: str, data: dict, args) -> Path:
    """<results>/<name>.json with the figures, the machine and whether it was a quick run."""
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{name}.json"
    payload = {"benchmark": name, "quick": args.quick, "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"written {path}")
    return path


def new_cluster(name: str, database_url: str | None = None) -> tuple[Engine, Cluster, Path, str]:
    """A migrated database (a new SQLite file unless `database_url` names an empty one) holding one
    Tanzanian cluster; returns the engine, the cluster, the work directory and the database URL."""
    workdir = Path(tempfile.mkdtemp(prefix=f"clusterbot-{name}-"))
    url = database_url or f"sqlite:///{workdir / f'{name}.db'}"
    db = make_engine(url)
    migrate(db)
    with session_scope(db) as s:
        cluster = create_cluster(s, "Kilimanjaro Growers", "KILI", language="en", currency="TZS",
                                 timezone="Africa/Dar_es_Salaam", region="TZ")
    return db, cluster, workdir, url
