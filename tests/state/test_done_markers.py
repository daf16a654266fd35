"""The blob store's done markers: keyed on the event id and its content digest, any id a valid name."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.state.conftest import MakeStore
from warden.azure.state_names import done_blob_name

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_done_markers_are_keyed_on_the_id_and_the_content(make_store: MakeStore) -> None:
    a, b = make_store(), make_store()
    a.mark_done("e1", T0, "digest-a")
    assert b.is_done("e1", "digest-a")
    assert not b.is_done("e1", "digest-b")  # another event reusing the id is not done
    assert b.is_done("e1")  # some delivery with this id was
    assert not b.is_done("e2") and not b.is_done("e2", "digest-a")


def test_a_lone_surrogate_in_the_event_id_is_a_valid_marker(make_store: MakeStore) -> None:
    store = make_store()
    store.mark_done("e-\ud800", T0, "d")
    assert store.is_done("e-\ud800", "d") and store.is_done("e-\ud800")
    assert not store.is_done("e-\udc00", "d")
    assert done_blob_name("e-\ud800", "d").startswith(done_blob_name("e-\ud800") + ".")
