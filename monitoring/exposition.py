"""The text a scraper gets: this node's processes' metrics (summed over the processes of a
gunicorn master or a cluster in multi-process mode), plus, on a web node, the database's state
and the node's galleries (monitoring.collectors)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from justface import metrics
from monitoring import collectors


class _ThisProcess:
    """The process's own registry (single-process mode: the counters live in memory)."""

    def collect(self):
        return REGISTRY.collect()


def scrape(*, database: bool) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if metrics.MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if database:
        registry.register(collectors.database)
        registry.register(collectors.people)
        registry.register(collectors.galleries)
    return generate_latest(registry)
