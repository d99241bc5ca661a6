"""Responses <-> other protocols: request and response translation, and the stream state machine."""
