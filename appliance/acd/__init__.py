"""Automatic call distribution: queues, agents, strategies, RONA, wrap-up (docs/acd.md)."""
