"""The `pivotdesk` console command: Django's manage.py with PivotDesk's settings."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pivotdesk", *sys.argv[1:]])
