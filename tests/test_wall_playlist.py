"""The wall's rotation from its address: ?rotate= and ?playlist=, and what is said about bad input."""

from __future__ import annotations

import pytest

from dashboard.wall.playlist import DEFAULT_SECONDS, PlaylistItem, parse_playlist, parse_seconds
from layouts.i18n import EN, ZH

UNITS = ["LX-110000", "LX-120000", "LX-130000"]


def kinds(playlist) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.kind + (f":{i.code}" if i.code else "") for i in playlist.items]


def test_no_rotation_asked_means_the_whole_wall_standing_still() -> None:
    p = parse_playlist(None, None, UNITS)
    assert p.items == (PlaylistItem("wall", DEFAULT_SECONDS),) and not p.rotating and not p.problems


def test_rotate_alone_goes_through_every_view_and_every_top_level_unit() -> None:
    p = parse_playlist("15", None, UNITS)
    assert kinds(p) == ["wall", "map", "topology", "kpi", "org:LX-110000", "org:LX-120000", "org:LX-130000"]
    assert {i.seconds for i in p.items} == {15.0} and not p.problems


def test_exhibition_rotates_by_itself() -> None:
    p = parse_playlist(None, None, UNITS, exhibition=True)
    assert p.rotating and kinds(p)[:4] == ["wall", "map", "topology", "kpi"]


def test_a_playlist_gives_each_item_its_own_seconds() -> None:
    p = parse_playlist("12", "map:20, topology:15,kpi,org:LX-120000:8,units:5", UNITS)
    assert [(i.kind, i.code, i.seconds) for i in p.items] == [
        ("map", None, 20.0),
        ("topology", None, 15.0),
        ("kpi", None, 12.0),
        ("org", "LX-120000", 8.0),
        *(("org", c, 5.0) for c in UNITS),
    ]
    assert not p.problems


@pytest.mark.parametrize("bad", ["abc", "-5", "0", "2", "1e9", "nan", "inf", "", " "])
def test_a_malformed_rotate_is_reported_and_the_default_used(bad: str) -> None:
    p = parse_playlist(bad, None, UNITS)
    assert [(pr.key, pr.value) for pr in p.problems] == [("playlist.bad_rotate", bad)]
    assert p.rotating and {i.seconds for i in p.items} == {DEFAULT_SECONDS}


def test_unknown_items_and_organisations_are_skipped_and_named() -> None:
    p = parse_playlist(None, "map:10,bogus,org:NOPE,org:LX-110000:abc,topology:99999", UNITS)
    assert kinds(p) == ["map", "org:LX-110000", "topology"]
    assert [(pr.key, pr.value) for pr in p.problems] == [
        ("playlist.unknown_item", "bogus"),
        ("playlist.unknown_org", "NOPE"),
        ("playlist.bad_seconds", "org:LX-110000:abc"),
        ("playlist.bad_seconds", "topology:99999"),
    ]
    assert [i.seconds for i in p.items] == [10.0, DEFAULT_SECONDS, DEFAULT_SECONDS]


def test_a_playlist_of_nothing_usable_falls_back_to_the_default_rotation() -> None:
    p = parse_playlist(None, "nothing,at:all", UNITS)
    assert [pr.key for pr in p.problems] == ["playlist.unknown_item", "playlist.unknown_item", "playlist.empty"]
    assert kinds(p)[:4] == ["wall", "map", "topology", "kpi"]


def test_parameters_given_twice_are_reported_not_guessed() -> None:
    p = parse_playlist(["5", "10"], ["map", "kpi"], UNITS)
    assert [pr.key for pr in p.problems] == ["playlist.repeated_rotate", "playlist.repeated_playlist"]
    assert not p.rotating


def test_long_text_is_shortened_in_messages() -> None:
    p = parse_playlist("x" * 500, "y" * 5000, UNITS)
    assert all(len(pr.value) <= 40 for pr in p.problems)


def test_seconds_bounds() -> None:
    assert parse_seconds("3") == 3.0 and parse_seconds("3600") == 3600.0 and parse_seconds(" 7.5 ") == 7.5
    assert parse_seconds("2.9") is None and parse_seconds("3601") is None


def test_every_message_exists_in_both_languages() -> None:
    keys = {pr.key for pr in parse_playlist("x", "bogus,org:NOPE,map:x", UNITS).problems}
    keys |= {pr.key for pr in parse_playlist(["1", "2"], ["a", "b"], UNITS).problems}
    keys |= {pr.key for pr in parse_playlist(None, "zzz", UNITS).problems}
    assert len(keys) == 7
    for key in keys:
        assert "{value}" in ZH[key] or key.startswith("playlist.repeated"), key
        assert key in EN, key
