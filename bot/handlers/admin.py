"""Scaffold: filled in by the admin work in progress."""

COMMANDS: list = []
