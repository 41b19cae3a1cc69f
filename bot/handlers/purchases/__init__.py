"""Joint purchases by message: offers, pledges (BUY), payments (PAID), the life cycle and where things stand.

Storage keeps the rules (limits, maximum, what is due); these modules read what people type through the
shared parser, word the replies and tell pledgers what changed. By who speaks: `members` (BUY, PAID),
`officers` (the facilitator's and the treasurer's commands), `flows` (NEWBUY); `common` holds the shared
wording and the table from a refusal's code to its reply. The deadline job is bot/jobs/purchases.py, the
terminal commands bot/cli/purchases.py.
"""

from __future__ import annotations

from bot.context import ACTIVE, ADMIN, FACILITATOR, Command
from bot.handlers.purchases.common import ERRORS, SAMPLES, plain_money, qty, tell
from bot.handlers.purchases.flows import NEWBUY, newbuy, publish_purchase
from bot.handlers.purchases.members import buy, paid
from bot.handlers.purchases.officers import (
    cancelbuy,
    collected,
    delivered,
    extend,
    ordered,
    payno,
    payok,
    purchase_info,
    received,
)

COMMANDS = [
    Command("BUY", buy, access=ACTIVE),
    Command("PAID", paid, access=ACTIVE),
    Command("PURCHASE", purchase_info, access=ADMIN),
    Command("NEWBUY", newbuy, access=FACILITATOR),
    Command("PAYOK", payok, access=ADMIN),
    Command("PAYNO", payno, access=ADMIN),
    Command("RECEIVED", received, access=ADMIN),
    Command("ORDERED", ordered, access=FACILITATOR),
    Command("DELIVERED", delivered, access=FACILITATOR),
    Command("COLLECTED", collected, access=ADMIN),
    Command("EXTEND", extend, access=FACILITATOR),
    Command("CANCELBUY", cancelbuy, access=FACILITATOR),
]
FLOWS = {NEWBUY.name: NEWBUY}

__all__ = ["COMMANDS", "ERRORS", "FLOWS", "NEWBUY", "SAMPLES", "plain_money", "publish_purchase", "qty", "tell"]
