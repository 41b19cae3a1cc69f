"""Scaffold: filled in by the glossary work in progress."""
