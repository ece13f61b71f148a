"""The background worker's tasks (django-q2) for member imports."""

from __future__ import annotations

from imports import services


def run(job_id: str) -> str:
    """Run a slice of the import; queue the next slice while rows are left."""
    if services.run_slice(job_id):
        from django_q.tasks import async_task

        async_task("imports.jobs.run", job_id)
        return "continues"
    return "done"


def purge() -> int:
    """The daily schedule: import jobs past JUSTFACE_IMPORT_KEEP_DAYS."""
    return services.purge_old_jobs()
