"""Gives the router its classifier model at start: the newest one in the model folder, or,
on a first start, the default one trained in the background (tickets go to manual triage
until it is ready, so the hotline is usable at once)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from classifier import ClassifierError, ModelNotFound, ensure_default_model, load_model
from web.services import Services

log = logging.getLogger(__name__)


def place_names(services: Services) -> list[str]:
    """The city's place names, kept whole by the tokenizer."""
    return sorted({name for names in services.city.gazetteer.values() for name in names})


def _load_or_train(services: Services) -> None:
    folder, key = services.settings.model_dir, services.settings.model_key
    try:
        model = load_model(folder, key=key)
        log.info("classifier model loaded", extra={"event": "model_loaded", "folder": str(folder)})
    except ModelNotFound:
        if not services.settings.train_on_start:
            log.warning("no classifier model and HOTLINE_TRAIN_ON_START=no: every ticket goes to manual triage",
                        extra={"event": "model_missing", "folder": str(folder)})
            return
        model = ensure_default_model(folder, log=lambda message: log.info(message, extra={"event": "model_training"}),
                                     user_words=place_names(services), key=key)
    except ClassifierError as exc:  # a tampered or unreadable file: refuse it loudly, keep running
        log.error("classifier model refused: %s", exc, extra={"event": "model_refused", "folder": str(folder)})
        return
    services.router.model = model


@contextlib.asynccontextmanager
async def classifier_model(services: Services) -> AsyncIterator[asyncio.Task[None]]:
    """Yields the loading task: the readiness check tells "loading" from "none" by it."""
    task = asyncio.create_task(asyncio.to_thread(_load_or_train, services), name="classifier-model")
    try:
        yield task
    finally:
        if not task.done():
            # The training thread cannot be interrupted; do not wait for it at shutdown.
            log.info("shutting down before the classifier model was ready", extra={"event": "model_abandoned"})
        else:
            with contextlib.suppress(Exception):
                task.result()
