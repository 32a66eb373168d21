"""The demo workspace: who logs in, and the data the `seed_demo` command writes through the services."""

from __future__ import annotations

DEMO_SLUG = "demo"
DEMO_NAME = "Pivot Demo 示例公司"
DEMO_PASSWORD = "pivotdesk-demo"  # noqa: S105 - a published demo password, printed on purpose

# (role, username) of the logins the banner shows; every demo agent shares DEMO_PASSWORD.
DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin", "admin"),
    ("supervisor", "supervisor"),
    ("agent", "agent"),
    ("light agent", "zheng.fang"),
]
