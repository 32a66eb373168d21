"""Every write of the channels app goes through these services."""
