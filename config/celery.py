"""Celery application. Eager in the embedded default, Redis broker otherwise (see settings).

Every task is a `core.jobs.JobTask`: a message sent for an outbox job runs its work at most once to completion.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigie", task_cls="core.jobs:JobTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
