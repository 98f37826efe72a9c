"""Video decoding for action liveness: containers and codecs, sampling, duration limits and
corrupt data, on clips encoded here with PyAV (real encoders, real decoding)."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.errors import FRSError
from openfrs.evaluation.clips import encode_clip
from openfrs.media.video import decode_video


def moving_square(seconds: float, fps: int, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """A white square crossing a grey frame: frame i's content is known from its time."""
    width, height = size
    frames = []
    for i in range(round(seconds * fps)):
        frame = np.full((height, width, 3), 90, np.uint8)
        x = int(i / (seconds * fps) * (width - 40))
        frame[100:140, x:x + 40] = 255
        frames.append(frame)
    return frames


@pytest.mark.parametrize("container,codec", [("mp4", "libx264"), ("webm", "libvpx"), ("avi", "mpeg4"),
                                             ("flv", "flv"), ("mov", "libx264"), ("matroska", "vp9")])
def test_containers_and_codecs_decode_to_sampled_frames(container, codec):
    data = encode_clip(moving_square(2.0, 25), 25, container, codec)
    video = decode_video(data)
    assert 1.9 <= video.duration <= 2.2, video.duration
    assert video.size == (320, 240)
    assert 18 <= len(video.frames) <= 21  # sampled at ~10 fps from 25
    assert video.times[0] == 0.0 and all(b > a for a, b in zip(video.times, video.times[1:], strict=False))
    # the square moves right over time: its column follows the frame's time
    columns = [int(np.argmax(frame[120].astype(int).sum(axis=1) > 600)) for frame in video.frames]
    assert columns == sorted(columns) and columns[-1] > columns[0] + 200


def test_large_frames_are_shrunk_for_tracking():
    data = encode_clip(moving_square(1.2, 10, (1280, 720)), 10, "mp4", "libx264")
    video = decode_video(data)
    assert video.size == (1280, 720) and video.frames[0].shape == (360, 640, 3)


@pytest.mark.parametrize("seconds", [0.5, 16.0])
def test_too_short_or_too_long_is_frs_0706(seconds):
    data = encode_clip(moving_square(seconds, 10, (64, 48)), 10, "mp4", "libx264")
    with pytest.raises(FRSError) as caught:
        decode_video(data)
    assert caught.value.code == "FRS.0706" and caught.value.status == 400


@pytest.mark.parametrize("parse_error", ["FRS.0701", "FRS.0751"])
def test_corrupt_or_non_video_data_gets_the_parse_error(parse_error):
    good = encode_clip(moving_square(2.0, 25), 25, "mp4", "libx264")
    rng = np.random.default_rng(3)
    for data in (b"", b"not a video at all" * 100, rng.bytes(50_000), good[: len(good) // 3],
                 good[:64] + rng.bytes(len(good) - 64)):
        with pytest.raises(FRSError) as caught:
            decode_video(data, parse_error=parse_error)
        assert caught.value.code in (parse_error, "FRS.0706"), caught.value
