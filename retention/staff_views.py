"""The desk's index, the processing register and the biometrics DPIA fact sheet (pages and
downloads). The content is retention.register's; a chain is the user's own (the operator
names one with ?chain=SLUG)."""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from access import stats
from justface.staff_pages import render_staff, staff_page
from justface.tenancy import Perm
from members.models import Chain, PendingFacePhoto
from retention import register as reg


def _chain(request) -> Chain:
    chains = request.scope.filter(Chain.objects.all())
    chain = (
        chains.filter(slug=request.GET["chain"]).first()
        if request.GET.get("chain")
        else (chains.first() if not request.scope.is_platform else None)
    )
    if chain is None:
        raise Http404(_("Name the chain: ?chain=SLUG."))
    return chain


@staff_page(Perm.VIEW_STATISTICS)
def desk(request):
    scope = request.scope
    return render_staff(
        request,
        "retention/staff/desk.html",
        {
            "can_report": scope.can(Perm.RUN_REPORTS),
            "can_register": scope.can(Perm.VIEW_REGISTER),
            # New face photos that did not match the member's enrolled face wait for someone.
            "faces_awaiting_review": scope.filter(PendingFacePhoto.objects.all()).count()
            if scope.can(Perm.EDIT_MEMBERS)
            else 0,
            "centres": stats.centres_for(scope),
            "chains": scope.filter(Chain.objects.all()) if scope.is_platform else [],
            "is_desk": True,
        },
        title=_("Staff desk"),
    )


@staff_page(Perm.VIEW_REGISTER)
def register(request):
    chain = _chain(request)
    reg.record_export(chain=chain, actor=request.user, what="register", fmt="page")
    return render_staff(
        request,
        "retention/staff/register.html",
        {
            "chain": chain,
            "data": reg.processing_register(chain=chain),
            "print": request.GET.get("print") == "1",
        },
        title=_("Processing register: %(chain)s") % {"chain": chain.name},
    )


@staff_page(Perm.VIEW_REGISTER)
def register_download(request, fmt: str):
    chain = _chain(request)
    data = reg.processing_register(chain=chain)
    if fmt == "json":
        body, content_type = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    elif fmt == "md":
        body, content_type = reg.register_markdown(data), "text/markdown; charset=utf-8"
    else:
        raise Http404
    reg.record_export(chain=chain, actor=request.user, what="register", fmt=fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="processing-register-{chain.slug}.{fmt}"'
    return response


@staff_page(Perm.VIEW_REGISTER)
def dpia(request):
    chain = _chain(request)
    reg.record_export(chain=chain, actor=request.user, what="dpia", fmt="page")
    return render_staff(
        request,
        "retention/staff/dpia.html",
        {"chain": chain, "data": reg.dpia_facts(chain=chain)},
        title=_("Biometrics DPIA fact sheet: %(chain)s") % {"chain": chain.name},
    )


@staff_page(Perm.VIEW_REGISTER)
def dpia_json(request):
    chain = _chain(request)
    reg.record_export(chain=chain, actor=request.user, what="dpia", fmt="json")
    response = HttpResponse(
        json.dumps(reg.dpia_facts(chain=chain), ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="dpia-biometrics-{chain.slug}.json"'
    return response
