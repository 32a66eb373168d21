"""AI screens: the AI panel on the ticket page and the AI insights page."""
