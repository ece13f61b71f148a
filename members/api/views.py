"""Member API: token, profile and e-mail change, PIN, export, data-subject requests."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from justface.accounts import end_api_tokens, issue_api_token, token_expires_at
from members import services
from members.accounts import LoginResult, authenticate_member
from members.api.base import MemberAPIView
from members.api.serializers import (
    DataSubjectRequestSerializer,
    EmailChangeSerializer,
    LoginSerializer,
    PinSerializer,
    ProfileSerializer,
    TokenSerializer,
)
from members.models import DataSubjectRequest

TAGS = ["member"]


class TokenView(MemberAPIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(
        tags=TAGS,
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong e-mail or password"),
            429: OpenApiResponse(description="Too many attempts"),
        },
        summary="Log in: exchange e-mail and password for the member's API token (it expires; see expires_at)",
        auth=[],
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result, member = authenticate_member(
            request, email=data.validated_data["email"], password=data.validated_data["password"]
        )
        if result is LoginResult.THROTTLED:
            return Response(
                {"detail": _("Too many attempts. Wait a quarter of an hour and try again, or reset your password.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if result is not LoginResult.OK:
            return Response(
                {"detail": _("That e-mail and password do not match a member login.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token = issue_api_token(user=member.user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})

    @extend_schema(tags=TAGS, request=None, responses={204: None}, summary="Log out: revoke the token")
    def delete(self, request):
        end_api_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(MemberAPIView):
    @extend_schema(tags=TAGS, responses=ProfileSerializer, summary="The member's profile")
    def get(self, request):
        return Response(ProfileSerializer(request.member).data)

    @extend_schema(
        tags=TAGS,
        request=ProfileSerializer,
        responses=ProfileSerializer,
        summary="Rectify the profile (name, phone, address, gender; the e-mail changes through /email/)",
    )
    def patch(self, request):
        data = ProfileSerializer(request.member, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.rectify_profile(member=request.member, changes=data.validated_data, actor=request.user)
        return Response(ProfileSerializer(request.member).data)


class EmailChangeView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        request=EmailChangeSerializer,
        responses={202: None},
        summary="Ask to change the e-mail address: a link goes to the new address and must be opened",
    )
    def post(self, request):
        data = EmailChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_email_change(
            member=request.member, new_email=data.validated_data["new_email"], actor=request.user, request=request
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class PinView(MemberAPIView):
    @extend_schema(
        tags=TAGS, request=PinSerializer, responses={204: None}, summary="Set or change the door PIN (4-8 digits)"
    )
    def put(self, request):
        data = PinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_pin(member=request.member, pin=data.validated_data["pin"], actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        summary="Download everything held about the member (ZIP of JSON files and kept photos)",
    )
    def get(self, request):
        response = HttpResponse(
            services.export_member_data(member=request.member, actor=request.user), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="justface-data-{timezone.localdate():%Y-%m-%d}.zip"'
        response["Cache-Control"] = "no-store"
        return response


class RequestsView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        responses=DataSubjectRequestSerializer(many=True),
        summary="The member's erasure and objection requests",
    )
    def get(self, request):
        rows = DataSubjectRequest.objects.filter(member=request.member).order_by("-received_at")
        return Response(DataSubjectRequestSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=DataSubjectRequestSerializer,
        responses={201: DataSubjectRequestSerializer},
        summary="File an erasure request, or an objection (objection_to: statistics or marketing)",
    )
    def post(self, request):
        data = DataSubjectRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filed = services.file_data_subject_request(member=request.member, actor=request.user, **data.validated_data)
        return Response(DataSubjectRequestSerializer(filed).data, status=status.HTTP_201_CREATED)
