"""Live updates pushed to the agents' pages (server-sent events): the queue and the ticket page refresh within a
second of a change by anyone, instead of polling every 10 seconds."""
