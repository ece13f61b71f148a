"""What every member API view shares: token authentication (tokens expire: justface.accounts), members only, and Django
validation errors answered as 400 with a `detail` the app can show."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from justface.accounts import ExpiringTokenAuthentication
from members.selectors import member_for


class IsMember(permissions.BasePermission):
    message = "This API is for members; log in with a member's token."

    def has_permission(self, request, view) -> bool:
        request.member = member_for(request.user)
        return request.member is not None


class MemberAPIView(APIView):
    authentication_classes = [ExpiringTokenAuthentication]
    permission_classes = [IsMember]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            code = getattr(exc, "code", None) or "invalid"
            return Response({"detail": " ".join(exc.messages), "code": code}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)
