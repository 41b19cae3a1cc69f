"""SACCOS by message: members save, borrow and repay; the treasurer confirms, records and reports.

Storage (storage/savings.py) keeps the ledger and its rules; this package reads what people type through
bot.parse, calls storage, and words the replies and the notices to the other side. By who speaks:
members.py (SAVE, REPAY, BAL, STMT), credit.py (LOAN, the votes, PAYOUT), treasurer.py (CONFIRM,
DECLINE, DEP, WITHDRAW, REVERSE, SACCOS); common.py holds the readers and the table of refusals.
"""

from __future__ import annotations

from bot.context import ACTIVE, ADMIN, TREASURER, Command, Flow
from bot.handlers.savings import credit, members, treasurer
from bot.handlers.savings.common import (
    ERRORS,
    LIST_LIMIT,
    REASON_LIMIT,
    STATEMENT_FLOW,
    as_money,
    day_text,
)

__all__ = ["COMMANDS", "ERRORS", "FLOWS", "LIST_LIMIT", "MORE", "SAMPLES", "STATEMENT_FLOW", "as_money",
           "day_text"]

SAMPLES = {
    "currency": "TZS",
    "reason": "x" * REASON_LIMIT,
    "rate": "12.5",
    "method": "declining balance",
    "numbers": "x" * LIST_LIMIT,
    "year": "2025",
    "owed": "TSh 12,500,000.50",
    "due": "TSh 1,250,000.50",
    "pending": "120",
    "overdue": "TSh 12,500,000.50",
    "loans": "120",
    "accounts": "1200",
    "entry": "123456",
    "state": "approved, not paid out",
}

COMMANDS = [
    Command("SAVE", members.save, access=ACTIVE),
    Command("BAL", members.balance, access=ACTIVE),
    Command("STMT", members.statement, access=ACTIVE),
    Command("LOAN", credit.loan, access=ACTIVE),
    Command("REPAY", members.repay, access=ACTIVE),
    Command("LOANYES", credit.loan_yes, access=ACTIVE, help=False),
    Command("LOANNO", credit.loan_no, access=ACTIVE, help=False),
    Command("CONFIRM", treasurer.confirm, access=ADMIN),
    Command("DECLINE", treasurer.decline, access=ADMIN),
    Command("DEP", treasurer.deposit, access=TREASURER),
    Command("WITHDRAW", treasurer.withdraw, access=TREASURER),
    Command("PAYOUT", credit.payout, access=TREASURER),
    Command("REVERSE", treasurer.reverse, access=TREASURER),
    Command("SACCOS", treasurer.saccos_report, access=TREASURER),
]
FLOWS = {STATEMENT_FLOW: Flow(members.statement_step)}
MORE = {STATEMENT_FLOW: members.more_statement}
