"""gunicorn settings of a Justface web node (README, "The door": production command; docs/operations.md).

    gunicorn config.wsgi -c deploy/gunicorn.conf.py --bind 10.0.1.11:8000

Used by the systemd unit (deploy/systemd/justface-web@.service), `make prod-local` and the benches.
nginx (deploy/nginx/) is always in front: never expose a node itself (README, Hardening)."""

import glob
import os
import tempfile

# Two processes for two cores, four threads each (docs/door.md: measured layouts); WEB_CONCURRENCY
# for a machine with more cores. A door agent's long poll holds a thread while it waits (no CPU):
# a node with more doors than JUSTFACE_DOOR_AGENT_HELD_PER_PROCESS x processes raises both that and
# JUSTFACE_WEB_THREADS (README, "Door agents").
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("JUSTFACE_WEB_THREADS", "4"))
worker_class = "gthread"
# One inference thread per process (more made the door slower, docs/door.md); a background
# cluster keeps the setting's own default.
os.environ.setdefault("FACE_TORCH_THREADS", "1")
os.environ.setdefault("FACE_BACKEND", "onnxruntime")

# A request never legitimately takes a minute: the door waits at most 10 s for the engine, a poll
# 10 s, a statement 15 s.
timeout = 60
# On SIGTERM (a stop, an upgrade) requests under way get this long to finish.
graceful_timeout = 30
# Longer than nginx's keepalive_timeout towards the nodes (60 s, deploy/nginx/justface.conf): nginx
# closes an idle connection first, so it never sends a request on one that gunicorn is closing (a
# POST lost that way is not passed to the other node, and the tablet would get a 503).
keepalive = 75
# The control socket (gunicorn 25+) is for interactive use; a service has systemctl.
control_socket_disable = True


def post_fork(server, worker):
    """glibc's malloc keeps freed memory for reuse: a decoded image (megabytes, freed a moment
    later) would stay in a thread's arena, and a worker's memory would only grow (a
    worker stayed 3 GB large after a few image bombs). From 1 MB up every allocation gets its own
    mapping, returned to the system when freed (a fixed threshold: glibc's default one rises to
    32 MB after the first large free), and two arenas serve the threads. Measured with
    bench/image_bombs.py (README, Hardening). JUSTFACE_MALLOC_TUNING=0 leaves glibc's defaults."""
    if os.environ.get("JUSTFACE_MALLOC_TUNING", "1") == "0":
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: its allocator is not this one
    m_mmap_threshold, m_arena_max = -3, -8  # malloc.h
    libc.mallopt(m_mmap_threshold, 1024 * 1024)
    libc.mallopt(m_arena_max, 2)


def on_starting(server):
    """Metrics (docs/operations.md): the workers write theirs to files in one folder that /metrics
    sums (prometheus-client's multi-process mode). JUSTFACE_METRICS_DIR names it (the systemd unit:
    the node's runtime directory); otherwise a new temporary one. Emptied here: a (re)started master
    counts from zero, as Prometheus expects of a restarted target."""
    if os.environ.get("JUSTFACE_METRICS", "1").lower() in ("0", "false", "no", "off"):
        return
    folder = os.environ.get("JUSTFACE_METRICS_DIR") or tempfile.mkdtemp(prefix="justface-metrics-web-")
    os.makedirs(folder, exist_ok=True)
    for name in glob.glob(os.path.join(folder, "*.db")):
        os.remove(name)
    os.environ["JUSTFACE_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def child_exit(server, worker):
    """A worker that exited (restarted, killed, timed out): its gauges stop counting; its counters'
    files stay, so the node's totals never go back."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
