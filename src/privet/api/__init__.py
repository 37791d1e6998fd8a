"""The REST API adapter (FastAPI): thin routes over the library."""
