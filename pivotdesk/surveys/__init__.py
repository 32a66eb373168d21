"""Satisfaction: CSAT after a ticket is solved and NPS campaigns per organization."""
