"""Channels turn provider requests into engine Inbounds and outbox rows into provider calls."""
