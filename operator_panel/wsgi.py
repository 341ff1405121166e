"""WSGI entry point of the operator panel."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_panel.settings")

application = get_wsgi_application()
