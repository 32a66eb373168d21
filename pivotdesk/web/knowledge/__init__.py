"""The knowledge screens of agents and knowledge managers: articles (list and hybrid search, page, editor,
translations, versions and their diff, restore) and categories with their sections."""
