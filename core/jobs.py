"""Background jobs enqueued once the transaction commits, by task name: ids in, nothing personal.

Naming the task instead of importing it keeps services and tasks from importing each other (a
task module imports its service; the service only knows the task's name).
"""

from functools import cache, partial

from celery import current_app
from django.db import transaction


@cache
def _tasks_loaded() -> None:
    """Import every app's tasks module once (Celery's autodiscovery), so a name finds its task."""
    current_app.loader.import_default_modules()


def _send(task_name: str, args: tuple) -> None:
    _tasks_loaded()
    current_app.tasks[task_name].delay(*args)


def enqueue_on_commit(task_name: str, *args) -> None:
    """Run `task_name(*args)` after the current transaction commits (eagerly in the embedded default)."""
    transaction.on_commit(partial(_send, task_name, args))
