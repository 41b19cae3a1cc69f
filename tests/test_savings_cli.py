"""`clusterbot savings rules|dividend|committee` read percentages, amounts and members through bot.parse."""

import pytest

from storage import savings as store
from storage.clusters import Cluster
from storage.db import session_scope

TZS = 100


def rules(db, cluster):
    with session_scope(db) as s:
        r = store.rules_for(s, s.get(Cluster, cluster.id))
        return r.interest_bp, r.contribution_minor, r.fine_minor, r.ceiling_minor


def test_rules_read_amounts_as_members_write_them(db, cluster, cli_run):
    code, out, err = cli_run("savings", "rules", "--rate", "1,5", "--contribution", "20 000", "--fine", "TSh 500",
                             "--ceiling", "200 000 000")
    assert code == 0, err
    # the ceiling may be set above the parser's default of TSh100,000,000
    assert rules(db, cluster) == (150, 20_000 * TZS, 500 * TZS, 200_000_000 * TZS)
    assert cli_run("savings", "rules", "--ceiling", "0", "--fine", "0", "--rate", "1.25%")[0] == 0
    assert rules(db, cluster) == (125, 20_000 * TZS, 0, None)


@pytest.mark.parametrize("option, text, says", [
    ("--contribution", "1,00", "ambiguous"),
    ("--contribution", "12,5", "decimals"),
    ("--fine", "0.5", "decimals"),
    ("--fine", "five", "invalid"),
    ("--contribution", "999999999999", "too_large"),
    ("--rate", "1.255", "at most two decimals"),
    ("--rate", "-1", "at most two decimals"),
    ("--rate", "1,500", "from 0 to 100"),
    ("--rate", "abc", "not a percentage"),
])
def test_rules_refuse_what_is_not_an_amount_or_a_percentage_and_change_nothing(db, cluster, cli_run, option, text,
                                                                                says):
    before = rules(db, cluster)
    code, _out, err = cli_run("savings", "rules", option, text)
    assert code == 2 and says in err, err
    assert rules(db, cluster) == before


def test_dividend_rate_with_a_decimal_comma(db, cluster, cli_run):
    code, out, _err = cli_run("savings", "dividend", "--rate", "7,5", "--year", "2025")
    assert code == 0 and "at 7,5% for 2025" in out
    code, _out, err = cli_run("savings", "dividend", "--rate", "7.505", "--year", "2025")
    assert code == 2 and "at most two decimals" in err


def test_committee_member_named_by_a_phone_in_groups(db, cluster, add_member, cli_run):
    member = add_member("+255712000001", name="Asha")
    code, out, err = cli_run("savings", "committee", "add", "0712 000 001")
    assert code == 0 and f"{member.number}\tAsha" in out, err
    code, _out, err = cli_run("savings", "committee", "add", "Asha")
    assert code == 2 and "no member Asha" in err
