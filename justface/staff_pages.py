"""Staff pages outside the model admin (reports, statistics, the register): the admin's look,
login and language, and one permission check through justface.tenancy."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from justface.tenancy import Perm, scope_for


def staff_page(perm: Perm):
    """Anonymous users go to the staff login; a login without `perm` gets 403. The view gets
    `request.scope`; what it reads it must still filter with that scope."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "admin:login")
            scope = scope_for(request.user)
            if not scope.can(perm):
                raise PermissionDenied
            request.scope = scope
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)  # reports and lists of personal data: never cached
            return response

        return wrapped

    return decorate


def render_staff(request, template: str, context: dict, *, title: str) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})
