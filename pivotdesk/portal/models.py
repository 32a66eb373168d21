"""Portal tables."""
