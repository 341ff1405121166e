from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # Metrics and task-log receivers: they observe, they decide nothing.
        from operations import receivers  # noqa: F401
