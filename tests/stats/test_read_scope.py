"""A region's statistics and residents are read through one region rule (`stats.service.readable_region`):
a regional official reads their own region only, a plain string reads nothing, and who reads the
residents list is the permission table's `records.read`."""

from __future__ import annotations

import pytest
from tests.actors import BUSAN, OFFICER, SYSTEM

from regionvisa.accounts.policy import system_actor
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden, NotFound
from regionvisa.stats import service

COMMITTEE = Actor(id=None, username="t.committee", display_name="Committee member", role="committee_member")


def test_a_region_is_read_inside_the_readers_scope_only(engine):
    assert service.readable_region(BUSAN, "26") == "26"
    assert service.readable_region(OFFICER, "41") == "41"
    for actor, code in ((BUSAN, "41"), ("t.busan", "26"), (system_actor("synth"), "26")):
        with pytest.raises(Forbidden):
            service.readable_region(actor, code)
    with pytest.raises(NotFound):
        service.readable_region(OFFICER, "99")
    with pytest.raises(Forbidden):  # scope first: another region's code, known or not, is refused
        service.region_statistics(engine=engine, actor=BUSAN, code="99")


def test_the_picker_lands_a_regional_official_on_their_own_region():
    assert service.landing_region(actor=BUSAN, requested="41") == "26"
    assert service.landing_region(actor=OFFICER, requested="41") == "41"
    assert service.landing_region(actor=OFFICER, requested="nowhere") == service.region_codes()[0]


def test_residents_are_listed_to_record_readers_only(engine):
    at = service.data_as_of(engine=engine)
    assert service.region_residents(engine=engine, actor=COMMITTEE, code="26", at=at, offset=0, limit=5) is None
    assert service.region_residents(engine=engine, actor=SYSTEM, code="26", at=at, offset=0, limit=5) is not None
    with pytest.raises(Forbidden):
        service.region_residents(engine=engine, actor=BUSAN, code="41", at=at, offset=0, limit=5)
