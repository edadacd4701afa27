"""HOTLINE_ROUTING_MIN_CONFIDENCE: unset, routing's own default; set, the threshold; wrong, refused."""
from __future__ import annotations

import pytest

from web.config import Settings
from web.services import Services


@pytest.mark.parametrize("value, threshold", [(None, 0.88), ("0.75", 0.75), ("1", 1.0)])
def test_the_setting_or_routings_default_is_the_threshold(database_url: str, value: str | None,
                                                          threshold: float) -> None:
    env = {"HOTLINE_DATABASE_URL": database_url} | ({"HOTLINE_ROUTING_MIN_CONFIDENCE": value} if value else {})
    services = Services.build(Settings.from_env(env))
    try:
        assert services.settings.routing_min_confidence == (float(value) if value else None)
        assert services.router.threshold == threshold   # no second opinion here: the fast model's 0.88
    finally:
        services.close()


@pytest.mark.parametrize("value", ["0.9x", "1.5", "-0.1"])
def test_a_threshold_that_is_not_a_fraction_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="HOTLINE_ROUTING_MIN_CONFIDENCE"):
        Settings.from_env({"HOTLINE_ROUTING_MIN_CONFIDENCE": value})
