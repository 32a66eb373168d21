"""The pure core of knowledge (no Django; property-tested in `knowledge/tests/test_domain_*.py`).

- `ranking`: reciprocal rank fusion of several result lists, and the retrieval metrics of `pivotdesk kb eval`
  (recall@k, reciprocal rank, `evaluate`, `percentile` for latency summaries).
- `evidence`: "worked in N of M cases" for the knowledge graph (`tally` with a recency-weighted rate and a Wilson
  lower bound for ranking, `special_cases` for context items under which a solution behaves differently).
- `versions`: line diffs between two versions of an article (`diff_lines`, `summary`).
"""
