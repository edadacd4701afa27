"""Gives the router its classifier model at start: the newest one in the model folder, or,
on a first start, the default one trained in the background (tickets go to manual triage
until it is ready, so the hotline is usable at once). Then keeps it current: every
WATCH_SECONDS the folder is looked at, and a newer model file (a guarded retrain by
`hotline classifier retrain` or by another process's weekly job saves only models it
accepted) is loaded off the event loop and swapped in, with no restart. The weekly
guarded retrain itself (scheduler job `retrain_classifier`) runs in a thread of its own."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator

from sqlalchemy.orm import Session

from classifier import ClassifierError, ModelNotFound, ensure_default_model, load_model
from web.services import Services

log = logging.getLogger(__name__)

WATCH_SECONDS = 2.0


def place_names(services: Services) -> list[str]:
    """The city's place names, kept whole by the tokenizer."""
    return sorted({name for names in services.city.gazetteer.values() for name in names})


_second_opinion: dict[str, object] = {}   # the one e5 second opinion of this process, once loaded


def use_model(services: Services, model: object) -> None:
    """Give the router this model, and the e5 second opinion when the `embeddings` extra is
    installed and the model's categories are the shipped ones (the opinion knows no others)."""
    from classifier.second_opinion import CACHE_FOLDER, load_second_opinion

    labels = tuple(getattr(model, "labels", ()))
    if "opinion" not in _second_opinion:
        try:
            _second_opinion["opinion"] = load_second_opinion(labels, cache=services.settings.model_dir / CACHE_FOLDER,
                                                             secret=services.settings.model_key)
        except Exception:  # an optional extra that fails must not stop routing
            log.exception("second opinion unavailable", extra={"event": "second_opinion_error"})
            _second_opinion["opinion"] = None
        if _second_opinion["opinion"] is not None:
            log.info("e5 second opinion ready for the uncertain messages", extra={"event": "second_opinion_ready"})
    opinion = _second_opinion["opinion"]
    fits = opinion is not None and set(opinion.labels) == set(labels)  # type: ignore[attr-defined]
    services.router.second_opinion = opinion if fits else None  # type: ignore[assignment]
    services.router.model = model  # type: ignore[assignment]


def _newest_file(services: Services) -> str | None:
    from classifier.storage import model_files

    files = model_files(services.settings.model_dir)
    return files[-1].name if files else None


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
        services.model_file = _newest_file(services)  # not retried until a newer one comes
        return
    services.model_file = _newest_file(services)
    use_model(services, model)
    # Its own daemon thread: minutes of training must neither hold up readiness nor a shutdown.
    threading.Thread(target=train_entry_model, args=(services,), name="entry-model", daemon=True).start()


def train_entry_model(services: Services) -> bool:
    """Give the router the level-3 model of the city's resolved tickets once enough of them
    carry a catalogue entry (HOTLINE_ENTRY_MODEL_MIN_TICKETS); False while too few."""
    from dispatch import entry_model

    catalogue = services.router.catalogue
    # Off unless the city asks: training takes minutes of CPU in every process.
    if catalogue is None or services.settings.entry_model_min_tickets <= 0:
        return False
    try:
        examples = services.run_sync(entry_model.history)
        trained = entry_model.train(examples, catalogue, min_tickets=services.settings.entry_model_min_tickets,
                                    user_words=place_names(services))
    except Exception:  # a failed training leaves routing on the terms, as before
        log.exception("level-3 model training failed", extra={"event": "entry_model_error"})
        return False
    if trained is None:
        log.info("too few resolved tickets with a catalogue entry for a level-3 model",
                 extra={"event": "entry_model_waiting", "tickets": len(examples),
                        "needed": services.settings.entry_model_min_tickets})
        return False
    services.router.entry_model = trained
    return True


def swap_if_newer(services: Services) -> bool:
    """Load the newest model file if it is not the one in use; True when swapped. Blocking."""
    newest = _newest_file(services)
    if newest is None or newest == services.model_file:
        return False
    try:
        model = load_model(services.settings.model_dir, newest, key=services.settings.model_key)
    except ClassifierError as exc:
        log.error("newer classifier model refused: %s", exc, extra={"event": "model_refused", "file": newest})
        services.model_file = newest
        return False
    use_model(services, model)  # reference assignments: a routing call sees the old or the new model
    services.model_file = newest
    log.info("classifier model swapped in", extra={"event": "model_swapped", "file": newest})
    return True


async def _watch(services: Services) -> None:
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            await asyncio.to_thread(swap_if_newer, services)
        except Exception:  # a folder hiccup must not end the watch
            log.exception("classifier model watch failed", extra={"event": "model_watch_error"})


def retrain_if_due(services: Services, session: Session, now: dt.datetime) -> str | None:
    """The weekly scheduler job: starts a guarded retrain in a thread of its own when a week
    has passed since the last attempt (its scheduler transaction must not last a minute)."""
    from dispatch import retraining

    if services.retraining or services.router.model is None or not retraining.due(session, now):
        return None
    services.retraining = True
    threading.Thread(target=run_guarded_retrain, args=(services, "weekly"), name="classifier-retrain",
                     daemon=True).start()
    return "started"


def run_guarded_retrain(services: Services, trigger: str) -> object:
    """Read the city's data, train, score, log, and swap in the process when accepted."""
    from classifier import shipped_examples
    from dispatch import retraining

    try:
        data = services.run_sync(retraining.city_data)
        result = retraining.guarded_retrain(data, shipped_examples(), services.router.model,
                                            services.settings.model_dir, key=services.settings.model_key,
                                            user_words=place_names(services))
        services.run_sync(lambda s: retraining.log_result(s, result, actor="scheduler", trigger=trigger))
        if result.swapped and result.model is not None and result.model_path is not None:
            use_model(services, result.model)
            services.model_file = result.model_path.name
        train_entry_model(services)   # a week's more history
        log.info("guarded retrain done", extra={"event": "model_retrain", **result.detail(trigger),
                                                "swapped": result.swapped})
        return result
    except Exception:
        log.exception("guarded retrain failed", extra={"event": "model_retrain_error"})
        return None
    finally:
        services.retraining = False


@contextlib.asynccontextmanager
async def classifier_model(services: Services) -> AsyncIterator[asyncio.Task[None]]:
    """Yields the loading task: the readiness check tells "loading" from "none" by it."""
    task = asyncio.create_task(asyncio.to_thread(_load_or_train, services), name="classifier-model")
    watch = asyncio.create_task(_watch_after(task, services), name="classifier-model-watch")
    try:
        yield task
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        if not task.done():
            # The training thread cannot be interrupted; do not wait for it at shutdown.
            log.info("shutting down before the classifier model was ready", extra={"event": "model_abandoned"})
        else:
            with contextlib.suppress(Exception):
                task.result()


async def _watch_after(loading: asyncio.Task[None], services: Services) -> None:
    with contextlib.suppress(Exception):
        await asyncio.shield(loading)
    await _watch(services)
