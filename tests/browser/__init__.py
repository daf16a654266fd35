"""Browser tests: the pages the Function App serves, in headless chromium (docs/review.md)."""
