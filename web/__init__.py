"""The composition root: Starlette app, CLI, settings. Nothing imports web."""
