"""Scaffold: filled in by the broadcasts work in progress."""
