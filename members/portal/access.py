"""Who may use the member portal: a logged-in member (request.member), nobody else."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from members.selectors import member_for


def member_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        request.member = member_for(request.user)
        if request.member is None:  # a staff login: the portal is for members only
            return render(request, "members/portal/not_a_member.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
