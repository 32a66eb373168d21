"""The knowledge app's write services, one module per concern; each asks the gate first (`authorize`, or
`authorize_system` for what only the system runs).

- `articles`: categories, articles and their versions (re-exported here: `services.article_save`).
- `assist`: agent assist on the ticket page and its feedback.
- `rootcause`: the root-cause tree, resolutions, the per-workspace model and its suggestions.
- `graph`: the knowledge graph (catalogue, mentions, edges).
- `evolution`: proposals from resolutions, reviews, the reviewer's decision.
- `bot`: the self-service bot's decisions, records and calibration.
- `transfer`: import and export.
- `reactions`: what happens when a ticket is solved or reopened, and the daily review sweep.
"""

from __future__ import annotations

from .articles import MAX_BODY, MAX_NAME, MAX_TITLE, article_restore, article_save, category_save

__all__ = ["MAX_BODY", "MAX_NAME", "MAX_TITLE", "article_restore", "article_save", "category_save"]
