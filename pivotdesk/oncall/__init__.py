"""Night duty (夜间值守): on-call schedules, escalation policies, pages with acknowledgement, partner providers."""
