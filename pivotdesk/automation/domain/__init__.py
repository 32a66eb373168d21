"""The pure core of automation (no Django; property-tested in `automation/tests/test_domain_*.py`).

- `conditions`: what a rule matches, as data (the facts vocabulary, validate / evaluate / explain / fields_used).
- `patterns`: which regular expressions a `matches` condition may use (no explosive backtracking).
- `cycle`: running the triggers for one event, Zendesk's way, with loop protection (`run_cycle`, `preview`).
- `effects`: what actions do to the facts (the `apply` the cycle and the preview use).
- `approvals`: multi-stage approval flows as a state machine.
- `chains`: linked ticket chains (one ticket per stage, in parallel or in sequence).
- `placeholders`: `{{ … }}` placeholders in reply and note templates.
"""
