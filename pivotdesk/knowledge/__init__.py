"""Knowledge (issue 17): articles in Chinese and English with versions, found by the search index."""
