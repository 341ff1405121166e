"""django-tasks-db's backend, carrying the request's log context in the task.

The task row is written in the same INSERT as before, with one more key in
its ``args_kwargs`` JSON when there is one (``log_context``: the request id,
or the id of the task that queued it). django-tasks-db reads only ``args`` and ``kwargs``
from it, so the task's own arguments are unchanged; the worker binds the
context when the task starts (``operations.receivers``). No shared cache is
needed, as django-structlog's own django-tasks support would need.
"""

from typing import Any

from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from operations.logs import current_context

CONTEXT_KEY = "log_context"


def task_log_context(db_result: DBTaskResult) -> dict[str, Any]:
    """The log context a task row carries (empty for rows queued without)."""
    context = db_result.args_kwargs.get(CONTEXT_KEY)
    return context if isinstance(context, dict) else {}


class ContextDatabaseBackend(DatabaseBackend):
    def _row(self, task, args, kwargs) -> dict[str, Any]:
        args_kwargs: dict[str, Any] = {"args": args, "kwargs": kwargs}
        if context := current_context():
            # Only ids (the request's, a parent task's): nothing personal.
            args_kwargs[CONTEXT_KEY] = context
        return {
            "id": self._get_id(),
            "args_kwargs": normalize_json(args_kwargs),
            "priority": task.priority,
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "run_after": task.run_after,
            "backend_name": self.alias,
        }

    def _task_to_db_task(self, task, args, kwargs) -> DBTaskResult:
        return DBTaskResult.objects.create(**self._row(task, args, kwargs))

    async def _atask_to_db_task(self, task, args, kwargs) -> DBTaskResult:
        return await DBTaskResult.objects.acreate(**self._row(task, args, kwargs))
