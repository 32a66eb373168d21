"""Pure webhook rules: signing, verification and the retry schedule (no Django)."""
