"""Shared helpers for the project's own tests: loopback servers, synthetic streams, call and event helpers."""
