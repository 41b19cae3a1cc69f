"""Drive people into every conversation step a flow has, and put them back there on demand.

A flow's steps are not listed anywhere but in its handler, so they are found by walking: start the flow
with its command, then answer each question with the first of a list of plausible answers that moves it
on. Each step reached is kept as (identity, flow, step, data): conversation state lives only in the
`conversations` table, so writing that row back puts a person at that step again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from storage.db import session_scope
from storage.members import Identity
from storage.messages import Conversation
from tests.conftest import say

# Plausible answers, most specific first; the walker tries them in order at each step.
ANSWERS = [
    "Asha Juma", "1", "YES", "all", "Training on bookkeeping", "Moshi Community Hall", "12/12/2030 14:00",
    "10/12/2030 18:00", "0", "30", "Fertiliser NPK", "bag/bags", "45000", "50", "Moshi Farm Supplies",
    "M-Pesa 0712 345 678", "How useful was the training?", "Very, Somewhat, Not at all", "2030-07-01 18:00 6",
    "A group of firms in one place that work together", "2", "3", "OK", "Asha Designs", "tailoring", "Moshi",
]


@dataclass(frozen=True)
class State:
    address: str
    flow: str
    step: str
    data: str

    @property
    def name(self) -> str:
        return f"{self.flow}.{self.step}"


def conversation(db, address: str) -> tuple[str, str, str] | None:
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.channel == "sms", Identity.address == address)).first()
        if identity is None:
            return None
        conv = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).first()
        return (conv.flow, conv.step, conv.data) if conv else None


def walk(db, settings, address: str, starter: str, found: dict[str, State], max_messages: int = 120) -> None:
    """Start a flow and answer until it ends, recording each step reached."""
    say(db, settings, address, starter)
    sent = 0
    while sent < max_messages:
        current = conversation(db, address)
        if current is None:
            return
        state = State(address, *current)
        found.setdefault(state.name, state)
        for answer in ANSWERS:
            say(db, settings, address, answer)
            sent += 1
            after = conversation(db, address)
            if after is None or after[:2] != current[:2]:
                break
        else:
            return  # no plausible answer moves this step on: leave it recorded and stop


def place(db, state: State, now) -> None:
    """Put the state's person back at that step of that flow."""
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.channel == "sms",
                                                 Identity.address == state.address)).one()
        conv = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).first()
        if conv is None:
            conv = Conversation(identity_id=identity.id, flow=state.flow, step=state.step)
        conv.flow, conv.step, conv.data, conv.updated_at = state.flow, state.step, state.data, now
        s.add(conv)
