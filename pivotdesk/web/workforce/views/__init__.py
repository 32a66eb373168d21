"""The workforce screens, split by who uses them: planning (supervisors), people (every agent), settings."""
