"""API routers under /api/v1, one per feature."""
