"""/metrics of a django-q2 cluster (a worker node has no web server): a small HTTP server in a
thread of the cluster's main process, on JUSTFACE_METRICS_LISTEN (host:port, the node's private
address), with the web nodes' access rules. It serves the cluster's processes' own metrics
(tasks, erasure failures) from JUSTFACE_METRICS_DIR; the database's state comes from the web
nodes' /metrics (the same for every node). It never touches the database."""

from __future__ import annotations

import glob
import logging
import os
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.access import scraper_allowed
from monitoring.exposition import scrape
from monitoring.views import REFUSED

logger = logging.getLogger(__name__)


def app(environ, start_response):
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found\n"]
    if not scraper_allowed(
        remote_addr=environ.get("REMOTE_ADDR", ""), authorization=environ.get("HTTP_AUTHORIZATION", "")
    ):
        start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
        return [REFUSED.encode()]
    body = scrape(database=False)
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
    return [body]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per scrape is noise
        pass


def clear_directory(path: str) -> None:
    """A cluster starts counting from zero: the files of the previous run's processes go."""
    for name in glob.glob(os.path.join(path, "*.db")):
        os.remove(name)


def start_for_cluster() -> threading.Thread | None:
    from justface import metrics

    if metrics.MULTIPROCESS and os.environ.get("JUSTFACE_METRICS_DIR"):
        clear_directory(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if not settings.JUSTFACE_METRICS_LISTEN:
        return None
    host, _, port = settings.JUSTFACE_METRICS_LISTEN.rpartition(":")
    server = make_server(host.strip("[]") or "127.0.0.1", int(port), app, _Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="justface-metrics")
    thread.start()
    logger.info("Cluster metrics on http://%s/metrics", settings.JUSTFACE_METRICS_LISTEN)
    return thread
