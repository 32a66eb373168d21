"""SLA screens: the ticket SLA panel, the report, policies and calendars; the SLA badges and timeline sentences."""
