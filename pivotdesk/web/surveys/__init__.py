"""Satisfaction screens (issue 18): the CSAT / NPS report, NPS campaigns and CSAT settings, the ticket's CSAT panel."""
