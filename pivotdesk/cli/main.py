"""The `pivotdesk` console command: Django's manage.py with PivotDesk's settings, and `pivotdesk wfm …`."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["wfm"]:  # pure forecasting tools: no settings, no database
        from pivotdesk.cli.wfm import main as wfm_main

        sys.exit(wfm_main(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pivotdesk", *sys.argv[1:]])
