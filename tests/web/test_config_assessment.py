"""The assessment's and hotspots' settings: read into the rules, refused with a reason when wrong."""
from __future__ import annotations

import pytest

from web.config import Settings
from web.services import Services


def test_the_settings_become_the_rules(database_url: str) -> None:
    settings = Settings.from_env({"HOTLINE_DATABASE_URL": database_url, "HOTLINE_RESPONSE_HOURS": "2",
                                  "HOTLINE_ASSESSMENT_WEIGHTS": "response=1,satisfaction=3",
                                  "HOTLINE_ASSESSMENT_TIER_CUTS": "0.95,0.85,0.6",
                                  "HOTLINE_HOTSPOT_BASELINE_DAYS": "14", "HOTLINE_HOTSPOT_CLUSTER_MIN_SCORE": "0.4"})
    services = Services.build(settings)
    try:
        rules = services.assessment_rules()
        assert rules.response_hours == 2
        assert dict(rules.weights) == {"response": 1, "resolution": 0, "satisfaction": 3, "on_time": 0}
        assert rules.tier_cuts == (0.95, 0.85, 0.6)
        hotspot = services.hotspot_rules()
        assert (hotspot.baseline_days, hotspot.cluster_min_score, hotspot.open_days) == (14, 0.4, 30)
    finally:
        services.close()


@pytest.mark.parametrize("name, value", [
    ("HOTLINE_ASSESSMENT_WEIGHTS", "speed=1"), ("HOTLINE_ASSESSMENT_WEIGHTS", "response=-1"),
    ("HOTLINE_ASSESSMENT_WEIGHTS", "response=0"), ("HOTLINE_ASSESSMENT_TIER_CUTS", "0.7,0.8,0.9"),
    ("HOTLINE_ASSESSMENT_TIER_CUTS", "0.9,0.8"), ("HOTLINE_ASSESSMENT_MAX_INTERVAL", "2"),
    ("HOTLINE_RESPONSE_HOURS", "0"), ("HOTLINE_HOTSPOT_MIN_COUNT", "x")])
def test_a_wrong_setting_stops_the_start_naming_it(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
