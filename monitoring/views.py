from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.access import scraper_allowed
from monitoring.exposition import scrape

REFUSED = "Metrics are only for the monitoring network or a scraper with the bearer token (docs/operations.md).\n"


@never_cache
def metrics_view(request):
    """Prometheus's scrape of this web node (docs/operations.md, "Metrics")."""
    if not settings.JUSTFACE_METRICS:
        raise Http404("Metrics are switched off (JUSTFACE_METRICS=0).")
    if not scraper_allowed(
        remote_addr=request.META.get("REMOTE_ADDR", ""), authorization=request.META.get("HTTP_AUTHORIZATION", "")
    ):
        return HttpResponse(REFUSED, status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(scrape(database=True), content_type=CONTENT_TYPE_LATEST)
