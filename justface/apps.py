from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JustfaceConfig(AppConfig):
    name = "justface"
    verbose_name = _("Justface platform")

    def ready(self):
        from django_q.signals import post_spawn

        from justface import checks  # noqa: F401  (registers the deployment checks)

        post_spawn.connect(lower_worker_priority, dispatch_uid="justface.worker_priority")


def lower_worker_priority(sender, proc_name: str, **kwargs) -> None:
    """Each background worker process, as it starts, yields the CPU to the door. Not a task run
    inline in the calling process (django-q2's sync mode sends this signal there too)."""
    import multiprocessing

    from django.conf import settings

    if multiprocessing.parent_process() is None:
        return

    from justface import worker_priority

    worker_priority.lower(settings.JUSTFACE_Q_NICE, idle=settings.JUSTFACE_Q_IDLE)
