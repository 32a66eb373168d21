"""Channel screens: channel accounts, failed inbound payloads, retrying a failed outbound reply."""
