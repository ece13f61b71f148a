"""Settings for the test suite: throwaway keys, fast hashing; the database still comes from
DATABASE_URL (PostgreSQL in CI), else SQLite."""

import os

from cryptography.fernet import Fernet

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.setdefault("FIELD_HASH_KEY", "test-only-hash-key")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# Serve static files from the apps (as in development) rather than from a collected folder.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests that start a second process need the test database on disk, not in memory.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}  # noqa: F405

# Browser tests' live server threads must not keep connections open past the test.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Gallery snapshots in a directory of this test run (its subprocesses share it), removed at exit.
if "JUSTFACE_GALLERY_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["JUSTFACE_GALLERY_DIR"] = tempfile.mkdtemp(prefix="justface-galleries-")
    atexit.register(shutil.rmtree, os.environ["JUSTFACE_GALLERY_DIR"], True)
GALLERY_DIR = os.environ["JUSTFACE_GALLERY_DIR"]
