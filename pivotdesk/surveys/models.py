"""Survey tables."""
