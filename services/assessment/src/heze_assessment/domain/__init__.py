"""The assessment domain: pure rules and aggregates, no I/O."""
