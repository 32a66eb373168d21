"""Composition root: settings, URLs, the API root, Celery and the event subscriber table."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
