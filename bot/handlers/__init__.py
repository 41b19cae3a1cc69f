"""The command table: every keyword a person can send, who may send it, and the guided flows.

Each domain module lists its own COMMANDS and FLOWS; this file puts them in one visible table. The order
of MODULES is the order HELP lists commands in. A flow written as data (bot/flow.py) is listed in FLOWS
by its name and its starting keyword in COMMANDS as `flow.command()`.
"""

from __future__ import annotations

from bot.context import Command, CommandTable, Flow
from bot.handlers import (
    account,
    broadcasts,
    events,
    glossary,
    kpis,
    menu,
    polls,
    purchases,
    registration,
    savings,
    visits,
)

MODULES = (registration, account, glossary, events, purchases, savings, polls, broadcasts, visits, kpis, menu)

PRIORITY = frozenset({"STOP", "START", "HELP"})


def _table() -> CommandTable:
    commands: dict[str, Command] = {}
    flows: dict[str, Flow] = {}
    more = {}
    for module in MODULES:
        for command in module.COMMANDS:
            assert command.name not in commands, f"{command.name} registered twice"
            commands[command.name] = command
        flows.update(getattr(module, "FLOWS", {}))
        more.update(getattr(module, "MORE", {}))
    return CommandTable(commands=commands, flows=flows, more=more,
                        domains=tuple(tuple(module.COMMANDS) for module in MODULES))


TABLE = _table()
COMMANDS = TABLE.commands
FLOWS = TABLE.flows
for _name, _flow in FLOWS.items():
    assert getattr(_flow, "name", _name) == _name, f"flow {_name} listed under another name"
    assert getattr(_flow, "keyword", "") in ("", *COMMANDS), f"flow {_name} starts with an unknown command"
