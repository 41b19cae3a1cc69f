"""Scaffold: filled in by the events work in progress."""

COMMANDS: list = []
