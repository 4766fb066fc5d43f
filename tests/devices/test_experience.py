"""Devices meet experience: answers joined with device health, figures computed by hand from
``tests/devices/experience_data.py``."""

from datetime import date

import pytest

from itxm.devices import experience, services
from itxm.devices.experience import Filters, band_of, combined_score
from itxm.org.scopes import EVERYTHING, scope_for
from tests.devices import experience_data
from tests.devices.experience_data import PERIOD


@pytest.fixture(autouse=True)
def fresh_results():
    # Results are kept per process until the data changes; a rolled-back test's ids can come again.
    services.forget_page_results()
    yield
    services.forget_page_results()


@pytest.fixture
def joined(org, settings):
    settings.ANALYTICS_MIN_ANSWERS = 2
    settings.EXPERIENCE_TECHNOLOGY_WEIGHT = 50
    return experience_data.build(org)


def by_key(groups):
    return {group.key: group for group in groups}


def test_bands_are_good_from_80_fair_from_50_and_poor_below():
    assert [band_of(s) for s in (100, 80, 79.9, 50, 49.9, 0, None)] == ["good", "good", "fair", "fair", "poor",
                                                                         "poor", ""]  # fmt: skip


def test_combined_score_is_the_weighted_mean_or_the_one_part_there_is():
    assert combined_score(40, 80, 0.5) == (60.0, False)
    assert combined_score(40, 80, 0.75) == (50.0, False)
    assert combined_score(None, 70, 0.5) == (70.0, True)
    assert combined_score(60, None, 0.5) == (60.0, True)
    assert combined_score(None, None, 0.5) == (None, False)


def test_answers_per_model_beside_the_health_and_lost_time_of_its_devices(joined):
    found = experience.experience(EVERYTHING, PERIOD)
    assert found.answers == 4  # the February answer is outside the period
    models = by_key(found.by_model)
    latitude, thinkpad = models["Latitude 5440"], models["ThinkPad T14"]
    # Ayşe's answers 3 and 5: both detractors.
    assert (latitude.people, latitude.answers, latitude.happiness, latitude.mean_score) == (1, 2, -100.0, 4.0)
    assert latitude.judged and latitude.reported_lost_per_answer == 45.0
    # PC-LAT-1 (40, 30 min a day) and PC-LAT-5 (70, 14 min) over ten days each.
    assert (latitude.devices, latitude.health, latitude.measured_lost_per_week) == (2, 55.0, 154.0)
    assert (thinkpad.answers, thinkpad.happiness, thinkpad.judged) == (1, 100.0, False)
    assert (thinkpad.health, thinkpad.measured_lost_per_week, thinkpad.reported_lost_per_answer) == (75.0, 35.0, 0.0)
    # Worst health first.
    assert [group.key for group in found.by_model] == ["Latitude 5440", "ThinkPad T14"]
    assert [group.key for group in found.by_os_build] == ["22631.3007", "22631.3296"]
    assert found.by_os_build[0].answers == 2 and found.by_os_build[0].health == 55.0


def test_each_answer_takes_the_band_of_its_devices_health_in_the_seven_days_before(joined):
    found = experience.experience(EVERYTHING, PERIOD)
    bands = by_key(found.by_band)
    assert [group.key for group in found.by_band] == ["good", "fair", "poor"]
    poor, good = bands["poor"], bands["good"]
    assert (poor.answers, poor.happiness, poor.judged, poor.health) == (2, -100.0, True, 40.0)
    # Windows 2–8 and 3–9 March of PC-LAT-1: 14 device-days of 30 minutes.
    assert (poor.devices, poor.measured_lost_per_week, poor.reported_lost_per_answer) == (1, 210.0, 45.0)
    assert (good.answers, good.happiness, good.judged, good.health) == (1, 100.0, False, 90.0)
    assert bands["fair"].answers == 0 and bands["fair"].happiness is None
    # Cem has no device: his answer has no band.
    assert found.answers_with_band == 3


def test_an_answer_with_no_scored_day_before_it_has_no_band(joined):
    experience_data.answer(joined["ayse"], date(2026, 3, 1), 9, 0)  # health starts on 1 March
    found = experience.experience(EVERYTHING, PERIOD)
    assert found.answers == 5 and found.answers_with_band == 3


def test_people_worst_first_with_their_combined_score(joined):
    people = experience.experience(EVERYTHING, PERIOD).people
    rows = [(p.name, p.technology, p.sentiment, p.score, p.partial) for p in people]
    assert rows == [
        ("Ayşe Yılmaz", 40.0, 40.0, 40.0, False),
        ("Dora Devices", 60.0, None, 60.0, True),
        ("Cem Kaya", None, 70.0, 70.0, True),
        ("Zoe Zeta-Answer", 90.0, 100.0, 95.0, False),
    ]
    ayse = people[0]
    assert (ayse.external_id, ayse.devices, ayse.models, ayse.band, ayse.answers) == (
        "E1",
        1,
        "Latitude 5440",
        "poor",
        2,
    )
    # 300 minutes over 10 scored days; 90 minutes reported over a 14-day period.
    assert (ayse.measured_lost_per_week, ayse.reported_lost_minutes, ayse.reported_lost_per_week) == (210.0, 90.0, 45.0)


def test_the_weight_of_technology_is_a_setting(joined, settings):
    settings.EXPERIENCE_TECHNOLOGY_WEIGHT = 80
    zoe = next(p for p in experience.experience(EVERYTHING, PERIOD).people if p.external_id == "E2")
    assert zoe.score == 92.0  # 0.8 × 90 + 0.2 × 100


def test_filters_narrow_the_answers_not_the_devices(joined, org):
    found = experience.experience(EVERYTHING, PERIOD, Filters(service=org["email"].pk))
    assert found.answers == 2  # Ayşe's two answers about the Alpha ticket (E-mail)
    zoe = next(p for p in found.people if p.external_id == "E2")
    assert (zoe.answers, zoe.sentiment, zoe.score, zoe.partial) == (0, None, 90.0, True)
    assert experience.experience(EVERYTHING, PERIOD, Filters(kind="devices")).answers == 0


def test_names_only_for_readers_who_may_see_people(joined, users):
    people = experience.experience(scope_for(users["viewer"]), PERIOD).people
    assert len(people) == 4 and all(p.name is None and p.external_id is None for p in people)
    assert experience.experience(scope_for(users["analyst"]), PERIOD).people[0].name == "Ayşe Yılmaz"


@pytest.mark.parametrize("role", ["alpha", "zeta", "owner"])
def test_suppliers_and_service_owners_see_no_person_and_no_device(joined, users, role):
    found = experience.experience(scope_for(users[role]), PERIOD)
    assert found.people == [] and found.answers == 0
    assert found.by_model == [] and found.by_os_build == []
    assert all(group.answers == 0 for group in found.by_band)


def test_nothing_to_join_on_an_empty_database(db):
    found = experience.experience(EVERYTHING, PERIOD)
    assert (found.answers, found.people, found.by_model) == (0, [], [])
    assert [group.answers for group in found.by_band] == [0, 0, 0]
