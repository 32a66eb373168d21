"""Account screens: sign-in, workspace switch, presence, personal API tokens."""
