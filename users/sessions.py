"""The session store: Django's database sessions, with a cheaper save.

SESSION_SAVE_EVERY_REQUEST saves the session at every request so that its
expiry moves on (idle timeout). Django's store wraps that save in a
savepoint (three statements); an existing session needs only one UPDATE.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        data = self._get_session(no_load=False)
        instance = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=instance)
        updated = (
            self.model._default_manager.using(using)
            .filter(session_key=self.session_key)
            .update(session_data=instance.session_data, expire_date=instance.expire_date)
        )
        if not updated:
            # Deleted meanwhile (signed out elsewhere): as Django's store does.
            raise UpdateError
