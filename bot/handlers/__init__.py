"""The command table: every keyword a person can send, who may send it, and the guided flows.

Each domain module lists its own COMMANDS and FLOWS (and JOBS for the scheduler); this file puts them in
one visible table. The order of MODULES is the order HELP lists commands in. A flow written as data
(bot/flow.py) is listed in FLOWS by its name and its starting keyword in COMMANDS as `flow.command()`.
"""

from __future__ import annotations

from bot.context import Command, Flow
from bot.handlers import (
    account,
    admin,
    events,
    glossary,
    polls,
    purchases,
    registration,
    retention,
    savings,
)

MODULES = (registration, account, glossary, events, purchases, savings, polls, admin, retention)

PRIORITY = frozenset({"STOP", "START", "HELP"})

COMMANDS: dict[str, Command] = {}
FLOWS: dict[str, Flow] = {}
for _module in MODULES:
    for _command in _module.COMMANDS:
        assert _command.name not in COMMANDS, f"{_command.name} registered twice"
        COMMANDS[_command.name] = _command
    FLOWS.update(getattr(_module, "FLOWS", {}))
for _name, _flow in FLOWS.items():
    assert getattr(_flow, "name", _name) == _name, f"flow {_name} listed under another name"
    assert getattr(_flow, "keyword", "") in ("", *COMMANDS), f"flow {_name} starts with an unknown command"
