"""Action events from face signals: each action found where it happens, order checks, rest
level taken from the clip itself (synthetic signal series; the perception side is tested with clips)."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.vision.face_actions import (
    BLINK,
    MOUTH,
    NOD,
    TURN_LEFT,
    TURN_RIGHT,
    Track,
    find_events,
    match_in_order,
)

FPS = 10


def track(seconds: float = 4.0, yaw=0.0, pitch=0.0, closed=0.02, mouth=0.05) -> Track:
    """A still, frontal face, eyes open, with a little noise; callers write actions into the arrays."""
    n = int(seconds * FPS)
    rng = np.random.default_rng(0)
    return Track(np.arange(n) / FPS, np.full(n, yaw) + rng.normal(0, 1.5, n),
                 np.full(n, pitch) + rng.normal(0, 1.5, n), np.clip(closed + rng.normal(0, 0.01, n), 0, 1),
                 np.full(n, mouth) + rng.normal(0, 0.005, n))


def between(t: Track, start: float, end: float) -> np.ndarray:
    return (t.times >= start) & (t.times <= end)


def test_a_still_face_has_no_events():
    assert find_events(track()) == []


@pytest.mark.parametrize("action,signal,value", [(TURN_LEFT, "yaw", -35.0), (TURN_RIGHT, "yaw", 35.0),
                                                 (NOD, "pitch", -18.0), (MOUTH, "mouth", 0.4),
                                                 (BLINK, "closed", 0.97)])
def test_each_action_is_found_where_it_happens(action, signal, value):
    t = track(yaw=8.0, pitch=-5.0)  # a rest pose that is not exactly zero
    getattr(t, signal)[between(t, 1.5, 1.8 if action == BLINK else 2.5)] = value
    events = find_events(t)
    assert [e.action for e in events] == [action]
    assert 1.4 <= events[0].start <= 1.6 and 0.5 < events[0].confidence <= 1.0


def test_small_movements_are_not_actions():
    t = track()
    t.yaw[between(t, 1.5, 2.5)] = 12.0  # under the 20-degree turn
    t.pitch[between(t, 2.5, 3.0)] = -7.0  # under the default 10-degree nod
    assert find_events(t) == []
    assert [e.action for e in find_events(t, nod_threshold=5.0)] == [NOD]  # nod_threshold honoured


def test_pitch_moved_by_a_turn_is_not_a_nod():
    """Mesh pitch dips while the head is turned (crosstalk); the same dip facing forward is a nod."""
    t = track(seconds=5.0)
    t.yaw[between(t, 1.0, 2.0)] = 35.0
    t.pitch[between(t, 1.2, 1.8)] = -14.0
    assert [e.action for e in find_events(t)] == [TURN_RIGHT]
    t.pitch[between(t, 3.0, 3.6)] = -14.0
    assert [e.action for e in find_events(t)] == [TURN_RIGHT, NOD]


def test_eyes_closed_for_long_is_not_a_blink():
    t = track()
    t.closed[between(t, 1.0, 2.6)] = 0.97
    assert all(e.action != BLINK for e in find_events(t))


def test_a_blink_is_seen_opening_and_closing():
    """Eyes shut at the start or the end of the clip are no blink: a closed-eyes photo held for a
    second, or a clip cut mid-blink, never showed the eyes open on both sides."""
    t = track()
    t.closed[t.times <= 0.3] = 0.97
    t.closed[t.times >= 3.7] = 0.97
    assert find_events(t) == []


def test_eye_state_round_one_level_is_no_blink():
    """A still photo's eye state wavers with codec noise: between the open and shut levels it
    makes no blink however it crosses the middle."""
    t = track(closed=0.5)
    t.closed[::2] = 0.7
    t.closed[1::2] = 0.3
    assert find_events(t) == []


def test_eyes_read_while_the_head_is_tilted_are_not_a_blink():
    """Tilted back or down, open eyes read shut (the nod clip): a blink is only read facing forward."""
    t = track()
    t.pitch[between(t, 1.5, 1.7)] = 30.0
    t.closed[between(t, 1.5, 1.7)] = 0.97
    assert all(e.action != BLINK for e in find_events(t))
    t.pitch[between(t, 1.5, 1.7)] = 5.0
    assert [e.action for e in find_events(t)] == [BLINK]


def test_order_is_checked():
    t = track(seconds=6.0)
    t.yaw[between(t, 1.0, 1.8)] = -35.0
    t.closed[between(t, 2.5, 2.7)] = 0.97
    t.yaw[between(t, 3.5, 4.3)] = 35.0
    events = find_events(t)
    assert [e.action for e in events] == [TURN_LEFT, BLINK, TURN_RIGHT]
    assert all(match_in_order(events, [TURN_LEFT, BLINK, TURN_RIGHT]))
    assert all(match_in_order(events, [TURN_LEFT, TURN_RIGHT]))
    assert match_in_order(events, [TURN_RIGHT, TURN_LEFT])[1] is None  # wrong order
    assert match_in_order(events, [NOD]) == [None]
    # action_time windows: the blink must start between 2 and 3 s, the turn right before 3 s
    assert all(match_in_order(events, [BLINK], windows=[(2.0, 3.0)]))
    assert match_in_order(events, [TURN_RIGHT], windows=[(0.0, 3.0)]) == [None]
