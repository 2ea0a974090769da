"""The enrollment domain: pure rules and aggregates, no I/O."""
