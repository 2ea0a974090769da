"""The subsidy domain: pure rules and aggregates, no I/O."""
