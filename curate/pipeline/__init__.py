"""Orchestration: what each command runs (read inputs, validate, call the engine, gather results)."""
