"""The automation admin screens (issue 16): triggers and time rules listed in order, the rule editor (conditions and
actions as rows, never JSON), the "what would happen" preview and each rule's execution log."""
