"""Every time shown to a person says its zone: the Centre's, Montréal's (no per-person zone yet)."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from core.templatetags.portal_time import when

UTC = datetime.UTC
# 22:00 UTC on 25 November is 17:00 in Montréal (EST, UTC-5).
EVENING = datetime.datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


def test_the_centres_zone_is_montreal() -> None:
    assert settings.TIME_ZONE in {"America/Montreal", "America/Toronto"}


def test_a_time_is_shown_in_montreal_with_its_zone_in_english() -> None:
    with translation.override("en"):
        assert when(EVENING) == "25 November 2026, 17:00 (Montréal time)"


def test_a_time_in_summer_follows_montreal_daylight_saving() -> None:
    with translation.override("en"):
        assert when(datetime.datetime(2026, 7, 1, 13, 5, tzinfo=UTC)) == (
            "1 July 2026, 09:05 (Montréal time)"
        )


def test_a_time_from_another_zone_is_converted_to_montreal() -> None:
    paris = EVENING.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    with translation.override("en"):
        assert when(paris) == "25 November 2026, 17:00 (Montréal time)"


def test_a_time_in_french_reads_as_french() -> None:
    with translation.override("fr"):
        if translation.gettext("%(day)s, %(time)s (Montréal time)").endswith("(Montréal time)"):
            pytest.skip("The French catalogue does not have the time strings yet.")
        assert when(EVENING) == "25 novembre 2026, 17 h 00 (heure de Montréal)"


def test_a_date_alone_has_no_zone_and_no_time() -> None:
    with translation.override("fr"):
        assert when(datetime.date(2027, 12, 31)) == "31 décembre 2027"


def test_nothing_shows_nothing() -> None:
    assert when(None) == ""


def test_the_filter_is_used_in_templates_and_ends_without_a_double_period() -> None:
    template = Template("{% load portal_time %}The vote closes on {{ deadline|when }}.")
    with translation.override("en"):
        text = template.render(Context({"deadline": EVENING}))
    assert text == "The vote closes on 25 November 2026, 17:00 (Montréal time)."
