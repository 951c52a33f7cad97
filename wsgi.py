"""The WSGI entry point: `flask --app wsgi …` and `gunicorn wsgi:app`."""

from stations import create_app

app = create_app()
