"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram


@dataclass(frozen=True)
class ServiceMetrics:
    relay_lag: Gauge = field(
        default_factory=lambda: Gauge(
            "heze_relay_lag_events",
            "Notification log head minus the relay's published position",
            ["service"],
        )
    )
    events_published: Counter = field(
        default_factory=lambda: Counter(
            "heze_events_published", "Integration events acknowledged by the broker", ["service"]
        )
    )
    consumer_lag: Gauge = field(
        default_factory=lambda: Gauge(
            "heze_consumer_lag_messages",
            "Broker high watermark minus the next offset to consume",
            ["service", "topic", "partition"],
        )
    )
    messages_consumed: Counter = field(
        default_factory=lambda: Counter(
            "heze_messages_consumed",
            "Upstream messages by outcome",
            ["service", "topic", "outcome"],
        )
    )
    dead_letters: Counter = field(
        default_factory=lambda: Counter(
            "heze_dead_letters", "Messages sent to the dead-letter topic", ["service", "reason"]
        )
    )
    orphaned_events: Gauge = field(
        default_factory=lambda: Gauge(
            "heze_orphaned_events",
            "Events on the service's topic that its log no longer holds (a restored database)",
            ["service"],
        )
    )
    command_latency: Histogram = field(
        default_factory=lambda: Histogram(
            "heze_command_latency_seconds",
            "HTTP request latency",
            ["service", "method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
    )


METRICS = ServiceMetrics()
