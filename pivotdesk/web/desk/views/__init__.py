"""Views of the desk, one module per screen."""
