"""What the operations app stores: the task workers' heartbeats."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """A running task worker (``manage.py db_worker``), seen every few seconds.

    The worker writes its row at start and every ``WORKER_HEARTBEAT_INTERVAL``
    seconds and deletes it when it stops cleanly; a worker that died leaves a
    row that stops moving. ``/health/ready`` looks at the newest ``seen_at``
    of all workers, on whatever machine they run.
    """

    worker_id = models.CharField(_("worker id"), max_length=64, primary_key=True)
    hostname = models.CharField(_("host name"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}, pid {self.pid})"
