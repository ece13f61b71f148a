from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"  # no models: never shown to staff

    def ready(self):
        import sys

        from django.conf import settings
        from django_q.signals import post_execute, pre_enqueue

        from monitoring import tasks

        pre_enqueue.connect(tasks.task_enqueued, dispatch_uid="justface-task-request-id")
        post_execute.connect(tasks.task_finished, dispatch_uid="justface-task-metrics")
        if sys.argv[1:2] == ["qcluster"] and settings.JUSTFACE_METRICS:
            from monitoring import worker_server

            worker_server.start_for_cluster()
