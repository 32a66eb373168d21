"""The desk: the queue and saved views, the ticket page (conversation, properties, links, presence), new tickets."""
