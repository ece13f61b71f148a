"""The test settings for a real django-q2 worker started by a test (tests/webhooks/test_worker.py):
the queue is the database's, as in production, not run inline."""

from config.settings_test import *  # noqa: F403

Q_CLUSTER = {**Q_CLUSTER, "sync": False, "workers": 1, "poll": 0.2}  # noqa: F405
