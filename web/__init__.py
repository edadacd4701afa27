"""The composition root: Starlette app, CLI, settings. Nothing imports web."""
# Before any module of routes is imported: they use the `{name:id}` path convertor.
from web import ids as _ids  # noqa: F401
