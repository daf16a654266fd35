"""WARDEN_NOTIFY_TOPIC_ENDPOINT: optional, an https URL, refused clearly otherwise; the events' source names the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from warden.azure.notify_eventgrid import source_of
from warden.errors import ConfigurationError
from warden.settings import load_settings

TOPIC = "https://evgt-x.westeurope-1.eventgrid.azure.net/api/events"


def test_unset_or_empty_means_no_notifications(tmp_path: Path) -> None:
    assert load_settings({}, base_dir=tmp_path).notify_topic_endpoint is None
    assert load_settings({"WARDEN_NOTIFY_TOPIC_ENDPOINT": "  "}, base_dir=tmp_path).notify_topic_endpoint is None


def test_an_https_endpoint_is_taken_as_given(tmp_path: Path) -> None:
    loaded = load_settings({"WARDEN_NOTIFY_TOPIC_ENDPOINT": f" {TOPIC} "}, base_dir=tmp_path)
    assert loaded.notify_topic_endpoint == TOPIC


@pytest.mark.parametrize(
    "bad", ["http://evgt-x.eventgrid.azure.net/api/events", "evgt-x/api/events", "https://", "https://[::1"]
)
def test_anything_else_is_refused_naming_the_setting(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigurationError, match=r"WARDEN_NOTIFY_TOPIC_ENDPOINT=.*must be an https URL"):
        load_settings({"WARDEN_NOTIFY_TOPIC_ENDPOINT": bad}, base_dir=tmp_path)


def test_the_source_names_the_function_app_when_hosted(tmp_path: Path) -> None:
    assert source_of(load_settings({}, base_dir=tmp_path)) == "/warden"
    assert source_of(load_settings({"WEBSITE_SITE_NAME": "func-abc"}, base_dir=tmp_path)) == "/warden/func-abc"
