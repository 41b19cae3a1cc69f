"""`clusterbot glossary rule|weekly` read their options through the shared parser: weekdays in any of the
four languages, whole numbers within their range, and a refused option changes nothing."""

from __future__ import annotations

import pytest

from storage import glossary as store
from storage.db import session_scope


def saved(db, cluster) -> tuple:
    with session_scope(db) as s:
        rule = store.settings_for(s, cluster.id)
        return rule.min_votes, rule.vote_days, rule.weekly_day, rule.weekly_hour


@pytest.mark.parametrize("day, number, shown", [
    ("jumatano", 2, "Wednesday"), ("Mercredi", 2, "Wednesday"), ("ረቡዕ", 2, "Wednesday"), ("3", 2, "Wednesday"),
    ("dimanche", 6, "Sunday"), ("thurs", 3, "Thursday"),
])
def test_weekly_takes_a_day_name_of_any_language(cli_run, db, cluster, day, number, shown):
    code, out, _ = cli_run("glossary", "weekly", day, "--hour", "07")
    assert code == 0 and f"every {shown} from 07:00" in out
    assert saved(db, cluster)[2:] == (number, 7)


@pytest.mark.parametrize("argv", [
    ("weekly", "14/03"), ("weekly", "8"), ("weekly", "mon", "--hour", "24"), ("weekly", "mon", "--hour", "7.5"),
    ("weekly", "mon", "--hour", "-1"), ("rule", "--min-votes", "0"), ("rule", "--min-votes", "three"),
    ("rule", "--vote-days", "61"), ("rule", "--vote-days", "2,5"),
])
def test_an_option_out_of_its_range_is_refused_and_nothing_changes(cli_run, db, cluster, argv):
    before = saved(db, cluster)
    code, _out, err = cli_run("glossary", *argv)
    assert code == 2 and err.strip(), err
    assert saved(db, cluster) == before


def test_rule_and_weekly_off(cli_run, db, cluster):
    assert cli_run("glossary", "rule", "--min-votes", "1", "--vote-days", "60")[0] == 0
    assert cli_run("glossary", "weekly", "mon")[0] == 0
    code, out, _ = cli_run("glossary", "weekly", "zima")
    assert code == 0 and "term of the week off" in out
    assert saved(db, cluster)[:3] == (1, 60, None)
