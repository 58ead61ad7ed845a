"""What a plain session may hold, as held items: unknown once marked so."""

from __future__ import annotations

from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, held_item, read_held

NEW, IN_PLACE = pb.DESTINATION_TYPE_NEW, pb.DESTINATION_TYPE_IN_PLACE


def test_held_items_read_back_as_destinations_and_restore_points() -> None:
    items = [held_item("rp:1", NEW), held_item("rp-2", IN_PLACE)]
    destinations, points = read_held(items) or (frozenset(), [])
    assert destinations == {NEW, IN_PLACE}
    assert sorted(points) == ["rp-2", "rp:1"]


def test_no_record_or_an_unknown_one_tells_nothing() -> None:
    assert read_held(None) is None
    assert read_held([]) is None
    assert read_held([held_item("rp-1", NEW), UNKNOWN_HELD]) is None
