"""The permanent security suite: attacks across every entry point (SSRF matrix, …)."""
