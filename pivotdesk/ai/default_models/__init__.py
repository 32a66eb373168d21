"""Models shipped with PivotDesk so triage works before a workspace has trained its own (data files, not code).

`sentiment_e5.npz` is the default sentiment model (read by `pivotdesk.ai.domain.sentiment_default`), trained by
`python -m pivotdesk.ai.default_models.train_sentiment` on `sentiment_seed.tsv`; see README.md for provenance.
"""
