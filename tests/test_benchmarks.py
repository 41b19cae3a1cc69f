"""The benchmarks still run: each in --quick mode writes its JSON with the expected keys (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support_workers import REPO

pytestmark = pytest.mark.slow


def run_benchmark(name: str, results: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", "--quick", "--results", str(results), *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((results / f"{name}.json").read_text())
    assert data["quick"] is True and {"cpu", "nproc", "ram_gb"} <= set(data["machine"])
    return data


def test_inbound_runs_against_the_durable_reference_and_counts_statements_per_message_type(tmp_path):
    data = run_benchmark("inbound", tmp_path, "--seconds", "1", "--rounds", "1")
    assert {"durable", "bare", "bot", "ratio", "ratio_bare", "bot_peak_rss_mb", "inbound_rows", "durable_rows",
            "statements", "targets"} <= set(data)
    for side in ("durable", "bare", "bot"):
        assert {"rate", "requests", "errors", "latency_p50_ms", "latency_p99_ms", "server_cpu_ms_per_message",
                "generator_cpu_s", "generator_wall_s", "rounds"} <= set(data[side])
        assert data[side]["requests"] > 0 and data[side]["errors"] == 0
        assert len(data[side]["rounds"]) == 1
    assert data["inbound_rows"] >= data["bot"]["requests"]  # every answered request was recorded
    assert data["durable_rows"] >= data["durable"]["requests"]  # and by the reference: no sid repeated
    assert not data["bot"]["wrapped"] and not data["durable"]["wrapped"]
    assert set(data["statements"]) == {"BAL", "STMT", "DEF", "EVENTS", "YES", "BUY", "HELP", "unknown"}
    for figures in data["statements"].values():
        assert figures["cursor"] > 0 and figures["sqlite"] > figures["cursor"]  # BEGIN and COMMIT besides
        assert figures["cursor_by_kind"]["INSERT"] >= 1  # the inbound row at least
        assert figures["cpu_ms"] > 0


def test_inbound_falls_back_to_the_python_generator(tmp_path):
    data = run_benchmark("inbound", tmp_path, "--seconds", "1", "--rounds", "1", "--generator", "python")
    assert data["bot"]["tool"] == data["durable"]["tool"] == "python-httpx"
    assert data["bot"]["requests"] > 0 and data["durable"]["requests"] > 0


def test_broadcast_runs_and_loses_nothing(tmp_path):
    data = run_benchmark("broadcast", tmp_path, "--members", "200", "--rate", "100")
    assert {"span_s", "limit_s", "throttled_429", "lost", "accepted", "outbox"} <= set(data)
    assert data["lost"] == 0 and data["accepted"] == data["unique_recipients"] == 200


def test_large_runs_at_two_sizes_with_every_command(tmp_path):
    data = run_benchmark("large", tmp_path, "--samples", "5")
    assert data["scales"] == [500, 5000]
    for size in ("500", "5000"):
        figures = data["figures"][size]
        assert set(figures["latency"]) == {"BAL", "STMT", "DEF", "EVENTS", "YES", "BUY"}
        assert {"kpi_report_s", "export_members_s", "export_peak_rss_mb"} <= set(figures)
        assert figures["export_rows"] == int(size)
    assert set(data["p95_growth"]) == {"BAL", "STMT", "DEF", "EVENTS", "YES", "BUY"}


def test_glossary_lookups_run_on_the_seed_and_on_synthetic_terms(tmp_path):
    data = run_benchmark("glossary", tmp_path)
    assert data["implementation"] == "rapidfuzz index" and data["synthetic"]["terms"] == 300
    for side in (data["seeded"], data["synthetic"]):
        assert side["lookups"] == 60 and side["lookups_per_s"] > 0 and 0 < side["answered_directly"] < 60


def test_ussd_sessions_walk_the_menus_with_every_screen_in_one_segment(tmp_path):
    data = run_benchmark("ussd", tmp_path, "--seconds", "1")
    assert {"screens_per_s", "latency_ms", "latency_by_step_ms", "errors", "screens_over_160", "sessions_completed",
            "server_cpu_ms_per_screen", "peak_rss_mb", "deposits_recorded_once"} <= set(data)
    assert {"p50_ms", "p95_ms", "p99_ms"} <= set(data["latency_ms"])
    assert data["screens"] > 0 and data["errors"] == data["unexpected_screens"] == 0
    assert data["screens_over_160"] == data["screens_not_gsm7"] == 0
    assert data["sessions_completed"] == data["sessions_started"] > 0
    assert all(data["completed_by_walk"].values())  # balance, deposit and lookup each walked to its END
    assert data["deposits_recorded_once"] is True
