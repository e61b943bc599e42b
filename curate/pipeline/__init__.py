"""Orchestration: what a command runs (read inputs, validate, call the engine, gather results)."""
