"""Scaffold: filled in by the polls work in progress."""
