"""The customer's side: sign-in (magic link, one-time code, signed links), my requests, progress, help centre look."""
