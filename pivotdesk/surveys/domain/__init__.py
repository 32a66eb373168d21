"""Pure survey arithmetic (no Django): CSAT and NPS from scores or counts."""
