from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = _("Users and resellers")

    def ready(self) -> None:
        # Imported here: users.roles imports models, which cannot be imported
        # while the app registry is still loading this AppConfig.
        from users.roles import ensure_roles

        # Like Django's default permissions: after every migrate (and flush),
        # the panel's permissions and role groups exist with the right content.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="users.ensure_roles")
