"""The FastAPI application: API routers under /api/v1, live events, pages. Thin: calls service functions."""
