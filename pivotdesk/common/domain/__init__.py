"""Pure parts of `common` (no Django): shared arithmetic every app may use."""
