"""The glossary by message: definitions in the member's language, MORE, local words agreed by vote.

Who sees what: anyone (strangers included) may look a term up and gets the global glossary; active
members also see their own cluster's wording, which wins. Active members propose local words and vote;
facilitators open and close votes, add or edit their cluster's definitions and choose the term-of-the-week day.

By purpose: lookup.py (DEF, the topics, MORE), votes.py (PROPOSE, VOTE and how a vote ended),
editing.py (DEFSET, WEEKLY), shared.py (names, the error table, when a lookup may replace a flow).
"""

from __future__ import annotations

from bot.context import ACTIVE, ANYONE, FACILITATOR, Command, Flow
from bot.handlers.glossary.editing import (
           EDIT,
           OFF_WORDS,
           day_name,
           long_fits,
           short_fits,
           weekday_number,
           weekly,
)
from bot.handlers.glossary.lookup import (
           MAX_PAGES,
           define,
           more,
           more_definition,
           more_step,
           pages,
           pick_step,
           week_term,
)
from bot.handlers.glossary.shared import (
           ERRORS,
           MORE_HINT,
           PAGER,
           PICKER,
           WEEKLY_MESSAGE,
           fitted,
           heading,
           start_more,
)
from bot.handlers.glossary.votes import BALLOT_FLOW, VOTE_OPEN, announce, propose, term_names, vote

__all__ = ["COMMANDS", "ERRORS", "FLOWS", "MAX_PAGES", "MORE", "MORE_HINT", "OFF_WORDS", "SAMPLES", "WEEKLY_MESSAGE",
           "announce", "day_name", "fitted", "heading", "long_fits", "pages", "short_fits", "start_more", "term_names", "week_term", "weekday_number"]

SAMPLES = {
    "options": "1 Ushindani-shirikishi, 2 Viunganishi vya biashara, 3 Uwezeshaji wa klasta",
    "definition": "Biashara au mashamba ya eneo moja yanayofanya kazi zinazohusiana, na wasambazaji.",
    "tally": "mshikamano 12, ushirika wa mafundi 12, umoja 3",
    "day": "Wednesday",
    "days": "60",
    "needed": "12345 were needed",
}

COMMANDS = [
    Command("DEF", define, access=ANYONE),
    Command("MORE", more, access=ANYONE, help=False),
    Command("PROPOSE", propose, access=ACTIVE),
    Command("VOTE", vote, access=ACTIVE),
    EDIT.command(),
    Command("WEEKLY", weekly, access=FACILITATOR),
]
FLOWS = {
    PAGER: Flow(more_step),
    PICKER: Flow(pick_step),
    BALLOT_FLOW.name: BALLOT_FLOW,
    EDIT.name: EDIT,
    VOTE_OPEN.name: VOTE_OPEN,
}
MORE = {PAGER: more_definition}
