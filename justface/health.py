"""Health checks for a load balancer or orchestrator: /livez says the process answers (it never
touches the database, so a database outage does not get healthy web processes restarted);
/healthz says it can serve, database included (503 while the database is unreachable)."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from justface.errors import RETRY_AFTER_SECONDS


@never_cache
def livez(request):
    return JsonResponse({"status": "ok"})


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        response = JsonResponse({"status": "unavailable", "detail": "The database is unreachable."}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok"})
