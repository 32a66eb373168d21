"""The settings area's POSTs meet the one gate like every UI action (the security suite's role judge, run over this
domain's URLs alone): a role without the permission of the service a view calls gets 403 and nothing is written."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.models import Role
from pivotdesk.web.tests.security.seed import seed_workspace
from pivotdesk.web.tests.security.test_roles import judge, run, ui_actions

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.LIGHT_AGENT, Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
def test_every_settings_post_follows_the_gate(workspace, client_as, role):
    seed = seed_workspace(workspace, marker="GATE")
    actions = [a for a in ui_actions() if a.label.startswith("settings/") and a.label.split("/")[1] in _OURS]
    assert len(actions) >= 20
    outcomes = run(seed, role, actions, client_as)
    failures = [f for a in actions for f in judge(a, outcomes[f"{a.interface} {a.label}"], role)]
    assert not failures, "\n".join(failures)


_OURS = {"", "agents", "invitations", "teams", "tokens", "categories", "statuses", "fields", "tags"}
