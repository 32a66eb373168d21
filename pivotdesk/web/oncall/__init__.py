"""The night-duty screens (issue 15): on-call schedules, escalation policies, pages, partners, after-hours answers."""
