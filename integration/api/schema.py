"""The integration API's shapes for the OpenAPI schema (documentation only: the rows are checked
by integration.sync, like the admin's form, so that one bad row is one row's error)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from members.models import Member


class MemberFields(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, help_text="Required for a new member.")
    last_name = serializers.CharField(max_length=100, required=False, help_text="Required for a new member.")
    home_centre = serializers.CharField(required=False, help_text="A centre slug of the key's chain; required new.")
    birth_date = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(Member.Gender.choices, required=False)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    guardian_name = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    guardian_email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    membership_type = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(Member.Status.choices, required=False)


class BulkMember(MemberFields):
    external_id = serializers.CharField(max_length=32, help_text="The member number in the chain's system.")


class IntegrationMember(MemberFields):
    cursor = serializers.IntegerField(allow_null=True)
    external_id = serializers.CharField()
    member_id = serializers.IntegerField()
    ended_at = serializers.DateTimeField(allow_null=True)
    changed_at = serializers.DateTimeField()


class RowOutcome(serializers.Serializer):
    row = serializers.IntegerField(required=False, help_text="Bulk only: the row's place, from 1.")
    external_id = serializers.CharField()
    outcome = serializers.ChoiceField(["created", "updated", "unchanged", "error"])
    member_id = serializers.IntegerField(required=False)
    changed = serializers.ListField(child=serializers.CharField(), required=False)
    field = serializers.CharField(required=False, allow_null=True)
    message = serializers.CharField(required=False)
    warning = serializers.CharField(required=False, help_text="The exclusion list matched (a new member).")
    detail = serializers.CharField(required=False)


class Counts(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class BulkAnswer(serializers.Serializer):
    counts = Counts()
    results = RowOutcome(many=True)


class MemberPage(serializers.Serializer):
    members = IntegrationMember(many=True)
    next_cursor = serializers.IntegerField()
    has_more = serializers.BooleanField()


class IntegrationEvent(serializers.Serializer):
    cursor = serializers.IntegerField()
    type = serializers.CharField(help_text="access.check_in, access.check_out, access.refused, door.alarm, ...")
    occurred_at = serializers.DateTimeField()
    member_id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)


class EventPage(serializers.Serializer):
    events = IntegrationEvent(many=True)
    next_cursor = serializers.IntegerField()
    has_more = serializers.BooleanField()


FORBIDDEN = OpenApiResponse(description="The key lacks the endpoint's scope.")
RATE = OpenApiResponse(description="The key's rate is spent; wait `Retry-After` seconds.")
