"""Running the app under uvicorn, stopping promptly: when shutdown starts (Ctrl-C, SIGTERM)
the live hub closes first, so the pages' server-sent event streams end on their own
instead of waiting out the graceful timeout and being cancelled with a traceback."""
from __future__ import annotations

from typing import Any

import uvicorn
from starlette.applications import Starlette


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: Any = None) -> None:
        hub = getattr(self._app.state, "hub", None)
        if hub is not None:
            hub.close()
        await super().shutdown(sockets)


def run(app: Starlette, **options: Any) -> None:
    """uvicorn.run(app, **options), with the Server above."""
    server = Server(uvicorn.Config(app, **options), app)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
        pass
