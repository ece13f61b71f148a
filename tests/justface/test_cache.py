"""CACHE_URL selects the cache; a Redis URL gives Django's own Redis backend."""

import environ
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def test_redis_url_gives_a_working_shared_cache(settings):
    config = environ.Env.cache_url_config("redis://127.0.0.1:6379/15")
    settings.CACHES = {"default": settings.CACHES["default"], "shared": config}
    cache = caches["shared"]
    assert isinstance(cache, RedisCache)
    cache.set("justface-test", "ok", 5)
    assert cache.get("justface-test") == "ok"
    cache.delete("justface-test")
