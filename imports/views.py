"""Staff pages of the import outside the model admin: the template file and the job's status."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse

from imports import files
from imports.models import ImportJob
from justface.staff_pages import staff_page
from justface.tenancy import Perm


@staff_page(Perm.BULK_MEMBERS)
def template(request, file_format: str):
    """The template to fill in: the columns and one example row (docs/import.md)."""
    if file_format == "csv":
        response = HttpResponse(files.template_csv(), content_type="text/csv; charset=utf-8")
    elif file_format == "xlsx":
        response = HttpResponse(
            files.template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="members-template.{file_format}"'
    return response


@staff_page(Perm.BULK_MEMBERS)
def status(request, job_id):
    """The progress bar's poll: counts only, for the chain's managers."""
    job = request.scope.filter(ImportJob.objects.filter(pk=job_id)).first()
    if job is None:
        raise Http404
    return JsonResponse(job.status())
