"""Workforce screens (排班): forecast, rosters and coverage, requests, my schedule with its calendar feed, adherence,
settings."""
