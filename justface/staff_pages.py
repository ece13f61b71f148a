"""The one way to build a staff page outside the model admin (reports, statistics, the register,
the front desk, the staff member's language): ``@staff_page(perm)`` checks the login and the
role and hands the view the user's chain scope; ``render_staff`` gives the admin's look. Staff
pages are mounted under /staff/ (namespace "staff": config/staff_urls.py), never under the
member portal."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from justface.tenancy import Perm, scope_for


def staff_page(perm: Perm | None):
    """Anonymous users and logins that are not staff (members) go to the staff login; a staff
    login without `perm` gets 403 (None: every staff member may open the page). The view gets
    `request.scope`; what it reads it must still filter with that scope."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                return redirect_to_login(request.get_full_path(), "admin:login")
            scope = scope_for(user)
            if perm is not None and not scope.can(perm):
                raise PermissionDenied
            request.scope = scope
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)  # reports and lists of personal data: never cached
            return response

        wrapped.staff_page = True  # tests/justface/test_staff_pages.py: every /staff/ page has it
        return wrapped

    return decorate


def render_staff(request, template: str, context: dict, *, title: str) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})
