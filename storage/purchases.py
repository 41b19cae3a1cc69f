"""Scaffold: filled in by the purchases work in progress."""
