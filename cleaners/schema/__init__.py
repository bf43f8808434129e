"""JSON Schemas of cleanfeed's output records (``article.schema.json``), loaded via importlib.resources."""
