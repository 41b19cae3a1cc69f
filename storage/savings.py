"""Scaffold: filled in by the savings work in progress."""
