"""Workforce management (排班): forecasts, staffing, rosters, shifts, requests; who is on shift."""
