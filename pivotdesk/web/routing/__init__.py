"""Routing screens: the dispatch board, routing policies, declining and field views."""
