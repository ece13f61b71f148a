"""What every integration API view shares: `Authorization: Bearer <key>` (an IntegrationKey of
the chain), the scope each view needs, a rate per key, failed keys counted per address
(justface.throttle), one audit entry per request by the key's id, and Django validation errors
answered as 400."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import permissions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from integration import conf, keys
from integration.models import IntegrationKey
from justface import audit, throttle

KEYWORD = "Bearer"
# Wrong keys from one address: a key has 256 random bits, so this only stops a flood of guesses.
KEY_GUESSES = throttle.Limit("integration", per_identifier=1000, per_address=30)


class IntegrationKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        keyword, _sep, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw = raw.strip()
        if keyword != KEYWORD or not raw:
            raise AuthenticationFailed(f"Send the integration key as: Authorization: {KEYWORD} <key>.")
        address = throttle.client_address(request)
        wait = throttle.retry_after(KEY_GUESSES, identifier=address, address=address)
        if wait:
            raise Throttled(wait=wait, detail="Too many unknown keys from this address; wait and try again.")
        key = keys.key_for(raw)
        if key is None:
            throttle.failed(KEY_GUESSES, identifier=address, address=address)
            raise AuthenticationFailed("This integration key is not known.")
        if key.revoked:
            audit.record(action="integration_key.refused", actor=key, obj=key, reason="revoked")
            raise AuthenticationFailed("This integration key has been revoked.")
        keys.touch(key)
        return key, key

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="integration"'


class IntegrationKeyScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationKeyAuthentication
    name = "IntegrationKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration key of the chain (`jfi_…`), issued by a manager in the admin or with "
            "`manage.py create_integration_key`; each key has scopes. Revoked keys get 401 at once.",
        }


class HasScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        key = request.user
        if not isinstance(key, IntegrationKey):
            return False
        if not key.allows(view.required_scope):
            self.message = f"This key lacks the scope {view.required_scope}."
            return False
        return True


class PerKeyRate(SimpleRateThrottle):
    """Requests per key (JUSTFACE_INTEGRATION_RATE), in Django's cache."""

    scope = "integration"

    def get_rate(self):
        return conf.rate()

    def get_cache_key(self, request, view):
        key = request.user
        return f"throttle:integration:key:{key.pk}" if isinstance(key, IntegrationKey) else None


class IntegrationAPIView(APIView):
    authentication_classes = [IntegrationKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [PerKeyRate]
    required_scope = ""
    audit_name = ""  # what the audit entry calls the request ("PUT members")

    @property
    def key(self) -> IntegrationKey:
        return self.request.user

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            code = getattr(exc, "code", None) or "invalid"
            return Response({"detail": " ".join(exc.messages), "code": code}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        key = getattr(request, "_user", None)
        if isinstance(key, IntegrationKey):
            keys.record_use(key=key, what=self.audit_name or request.method, status=response.status_code)
        return super().finalize_response(request, response, *args, **kwargs)
