"""Prometheus metrics of the broker, on a registry of its own (one per app, so tests can run
several brokers in one process without colliding)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class BrokerMetrics:
    def __init__(self, entity_count: Callable[[], float], backlog: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ngsild_requests_total", "HTTP requests by method, route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("ngsild_request_seconds", "request latency by method and route",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.notifications = Counter("ngsild_notifications_total", "notification deliveries by outcome",
                                     ["outcome"], registry=self.registry)
        self.entities_written = Counter("ngsild_entities_written_total", "entities created or changed",
                                        registry=self.registry)
        Gauge("ngsild_entities", "entities stored (all tenants)", registry=self.registry
              ).set_function(entity_count)
        Gauge("ngsild_notification_backlog", "entities waiting to be notified", registry=self.registry
              ).set_function(backlog)
