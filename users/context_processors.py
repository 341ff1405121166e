from users.selectors import manager_for_user


def current_manager(request) -> dict:
    """The signed-in manager for the layout: set by ``manager_required`` on
    panel pages, looked up here on the few pages outside it (password change)."""
    manager = getattr(request, "manager", None)
    if manager is None and getattr(request, "user", None) is not None:
        manager = manager_for_user(user=request.user)
    return {"current_manager": manager}
