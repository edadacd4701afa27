"""The watcher's missing ids: an id under the maximum read but not yet there is asked for
again until it comes or LATE_SECONDS pass."""
from __future__ import annotations

from web.late_ids import LATE_SECONDS, MOST_LATE, LateIds


def test_an_id_missing_under_the_maximum_is_asked_for_until_it_comes() -> None:
    late = LateIds()
    late.read(10, 14, found={11, 12, 14}, now=0.0, whole=True)
    assert late and late.asked(1.0) == [13]
    late.read(14, 15, found={13, 15}, now=1.0, whole=True)
    assert not late and late.asked(2.0) == []


def test_a_missing_id_is_given_up_after_a_while_and_a_cut_read_notes_none() -> None:
    late = LateIds()
    late.read(0, 3, found={1, 3}, now=0.0, whole=True)
    assert late.asked(LATE_SECONDS - 1) == [2]
    assert late.asked(LATE_SECONDS + 1) == [] and not late
    late.read(0, 3, found={1}, now=0.0, whole=False)   # the read stopped short: nothing is known
    late.read(0, MOST_LATE + 1, found=set(), now=0.0, whole=True)   # too wide to tell
    assert late.asked(1.0) == []
