"""The statistics API (/api/v1/statistics/): the anonymous hourly counts of the statistics pages
for a chain's BI tools. Reads go through access.stats with the caller's scope; no page module is
imported here (an import contract holds the APIs to that)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from access import stats
from justface.accounts import ExpiringTokenAuthentication
from justface.tenancy import Perm, scope_for


class StaffStatistics(BasePermission):
    def has_permission(self, request, view):
        return scope_for(request.user).can(Perm.VIEW_STATISTICS)


CentreSerializer = inline_serializer(
    "StatisticsCentre",
    many=True,
    fields={
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "slug": serializers.CharField(),
        "time_zone": serializers.CharField(),
    },
)
HourSerializer = inline_serializer(
    "StatisticsHour",
    many=True,
    fields={
        "hour": serializers.DateTimeField(help_text="Start of the hour, the centre's local time."),
        "check_ins": serializers.IntegerField(),
        "check_outs": serializers.IntegerField(),
        "denied": serializers.IntegerField(),
        "peak_inside": serializers.IntegerField(help_text="Most members inside at once in the hour."),
    },
)
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="First day (YYYY-MM-DD, the centre's local date); default: 27 days before `to`."
    ),
    OpenApiParameter("to", str, description="Last day (YYYY-MM-DD); default: today. At most a year in all."),
]


class StatisticsAPIView(APIView):
    """Anonymous hourly counts for a chain's BI tools: a staff session or a staff token
    (`Authorization: Token <key>`, made by the operator with `manage.py drf_create_token`)."""

    # Token first: an anonymous call then gets 401 with WWW-Authenticate, not 403.
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [StaffStatistics]


class StatisticsCentresView(StatisticsAPIView):
    @extend_schema(tags=["statistics"], responses=CentreSerializer, summary="The centres whose statistics you may read")
    def get(self, request):
        return Response(
            [
                {"id": c.pk, "name": c.name, "slug": c.slug, "time_zone": c.time_zone}
                for c in stats.centres_for(scope_for(request.user))
            ]
        )


class StatisticsHourlyView(StatisticsAPIView):
    @extend_schema(
        tags=["statistics"],
        parameters=PERIOD_PARAMETERS,
        responses=HourSerializer,
        summary="Check-ins, check-outs, refusals and the peak inside, per hour of one centre (hours with data)",
    )
    def get(self, request, centre_id: int):
        scope = scope_for(request.user)
        centre = stats.centres_for(scope).filter(pk=centre_id).first()
        if centre is None:
            raise NotFound()
        try:
            period, _day = stats.period_from(request.query_params)
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(stats.hourly_rows(scope=scope, centre=centre, period=period))
