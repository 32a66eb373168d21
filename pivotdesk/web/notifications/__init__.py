"""Notification screens: the bell, the list, preferences and targets, the delivery log."""
