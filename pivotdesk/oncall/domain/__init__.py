"""Pure on-call logic (no Django): who is on call when, for rotations, restrictions, layers and overrides."""
