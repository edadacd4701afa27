"""Staff accounts and the phone an operator answers at."""
from __future__ import annotations

from dispatch.staff import extension_of


def test_the_extension_of_an_agent_interface_is_the_phone_it_names() -> None:
    assert extension_of("PJSIP/7001") == "7001"
    assert extension_of("SIP/7001") == "7001"
    assert extension_of("Local/7001@from-queue/n") == "7001"
    assert extension_of("7001") == "7001"
    assert extension_of(" PJSIP/7001 ") == "7001"
