"""The certification domain: pure rules and aggregates, no I/O."""
