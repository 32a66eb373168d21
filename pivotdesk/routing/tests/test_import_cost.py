"""Start-up cost: a web or worker process does not load scipy until a batch drain needs it, nor apprise (18 MiB)
until a notification is sent through it."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import importlib, os, pkgutil, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
import config.urls  # every view module, as a web process loads them
import pivotdesk
for module in pkgutil.iter_modules(pivotdesk.__path__):  # every tasks module, as a worker's autodiscovery does
    try:
        importlib.import_module(f"pivotdesk.{module.name}.tasks")
    except ModuleNotFoundError as error:
        if error.name != f"pivotdesk.{module.name}.tasks":
            raise
import pivotdesk.routing.domain, pivotdesk.routing.services
print(sorted(name for name in sys.modules if name in ("scipy", "apprise") or name.startswith("scipy.")))
"""


def test_given_a_fresh_process_when_django_urls_and_every_tasks_module_load_then_scipy_and_apprise_are_not_imported() -> (
    None
):
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)  # noqa: S603

    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout[-2000:]


def test_given_a_batch_drain_when_batch_assign_runs_then_scipy_is_loaded_on_demand() -> None:
    probe = (
        "import sys\n"
        "from pivotdesk.routing.domain import batch_assign\n"
        "before = 'scipy.optimize' in sys.modules\n"
        "from pivotdesk.routing.domain.model import PolicySpec\n"
        "batch_assign([], [], PolicySpec())\n"
        "print(before, 'scipy.optimize' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603

    assert result.stdout.strip() == "False True", result.stderr[-2000:]
