"""Package data of the engine: stop-word lists and the content-finder model."""
