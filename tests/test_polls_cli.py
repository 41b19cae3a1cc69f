"""`clusterbot poll` options read by the shared parser: ids as #12, the start as any date and time it
reads in the cluster's timezone, the past refused; a refusal names the option and changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storage.db import session_scope
from storage.polls import Poll


def test_start_in_words_and_ids_with_a_hash(db, cluster, cli_run):
    code, out, _ = cli_run("poll", "create", "satisfaction")
    assert code == 0 and "poll 1 created with 7 questions" in out
    code, out, err = cli_run("poll", "schedule", "#1", "--start", "1 Jan 2031 6pm", "--every-months", "6")
    assert code == 0, err
    assert "first round 2031-01-01 18:00 (Africa/Dar_es_Salaam), then every 6 months" in out
    code, out, _ = cli_run("poll", "schedule", "1", "--start", "2031-02-01 18:00", "--every-months", "1")
    assert code == 0 and "then every 1 month" in out and "1 months" not in out
    with session_scope(db) as s:
        assert s.get(Poll, 1).start_at == datetime(2031, 2, 1, 18, 0, tzinfo=ZoneInfo("Africa/Dar_es_Salaam"))


def test_a_past_or_unreadable_start_is_refused_and_nothing_changes(db, cluster, cli_run):
    cli_run("poll", "create", "satisfaction")
    code, _, err = cli_run("poll", "schedule", "1", "--start", "2020-01-01 18:00")
    assert code == 2 and "--start '2020-01-01 18:00'" in err and "already past" in err
    code, _, err = cli_run("poll", "schedule", "1", "--start", "31/02/2031 18:00")
    assert code == 2 and "no such day" in err
    with session_scope(db) as s:
        assert s.get(Poll, 1).status == "draft"


@pytest.mark.parametrize("argv", [("poll", "cancel", "one"), ("poll", "results", "0"),
                                  ("poll", "schedule", "1", "--start", "2031-01-01 18:00", "--every-months", "six")])
def test_a_bad_number_is_argparses_error_with_the_parsers_words(db, cluster, cli_run, argv, capsysbinary):
    with pytest.raises(SystemExit) as stopped:
        cli_run(*argv)
    err = capsysbinary.readouterr().err.decode()
    assert stopped.value.code == 2 and "Please send" in err and "in figures" in err, err
