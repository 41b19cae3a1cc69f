"""The README stays true: every keyword, variable and CLI command that exists is documented."""

import argparse
import inspect
import re
from pathlib import Path

from bot import cli, config
from bot.catalog import keyword_markdown

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_keyword_table_is_the_one_the_code_generates():
    block = README.split("<!-- keywords:start -->\n", 1)[1].split("\n<!-- keywords:end -->", 1)[0]
    assert block == keyword_markdown(), "run `python -m bot.catalog keywords` and paste it into the README"


def test_every_environment_variable_is_documented():
    source = inspect.getsource(config.Settings.from_env)
    names = set(re.findall(r'get\("([A-Z_]+)"', source)) | set(re.findall(r'values.get\("([A-Z_]+)"', source))
    assert names, "no variables found: the test no longer reads Settings.from_env"
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"variables missing from the README: {missing}"


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix}{name}")
                found.extend(_subcommands(sub, f"{prefix}{name} "))
    return found


def test_every_cli_command_is_documented():
    commands = _subcommands(cli.build_parser())
    assert "export" in commands and "savings check" in commands
    missing = []
    for command in commands:
        last = command.split()[-1]
        if f"`{command}" not in README and not re.search(rf"`[^`]*\b{re.escape(last)}\b[^`]*`", README):
            missing.append(command)
    assert not missing, f"CLI commands missing from the README: {missing}"
