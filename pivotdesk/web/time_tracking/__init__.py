"""Time spent on tickets: the ticket page's "Time spent" section and its endpoints, and the time report."""
