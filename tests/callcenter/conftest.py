import json
from pathlib import Path

import pytest

from callcenter import wire

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def recording():
    """Load a fixture as a list of AMI messages (dicts of str -> str)."""

    def load(name: str) -> list[dict[str, str]]:
        path = FIXTURES / name
        if path.suffix == ".json":
            return [{k: v for k, v in m.items() if k != "content"}
                    for m in json.loads(path.read_text())]
        return list(wire.decode(path.read_text()))

    return load
