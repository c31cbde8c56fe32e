"""Celery wired to Django.

Settings come from Django's settings under the CELERY_ prefix (JSON only, acks_late, time limits,
the beat schedule). With no broker configured, tasks run in-process and raise to the caller.
Tasks are queued after the surrounding transaction commits: call ``task.delay_on_commit(...)``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icpc_portal.settings")

app = Celery("icpc_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
