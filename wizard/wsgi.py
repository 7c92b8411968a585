"""WSGI entry point (gunicorn wizard.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")
application = get_wsgi_application()
