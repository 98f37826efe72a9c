"""Video bytes -> sampled RGB frames with timestamps, for action liveness (PyAV, FFmpeg inside
the wheel: mp4, mov, avi, flv, webm/mkv with the codecs FFmpeg decodes).

Why sampled and downscaled: liveness needs the face's motion, not every frame of a 1080p clip.
Frames are kept at most every 1/`sample_fps` seconds and shrunk so the long side is at most
`max_side` (a face of 120 px in 1080p is still ~70 px at 640), which keeps a 15 s 1080p clip
well inside the time budget. Every frame is still decoded (inter-frame codecs need it), but
decoding stops at the duration limit, so a crafted file cannot make us decode forever.

Frames are turned upright by the stream's display rotation (a phone records sideways and says
so in a display matrix; players obey it, so the face the user saw is upright only after that).

Errors: undecodable data -> `parse_error` (FRS.0701 on /v1, FRS.0751 on /v2); a duration
outside `min_seconds`..`max_seconds` -> FRS.0706; a frame size over the image limit -> FRS.0013.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import cv2
import numpy as np

from openfrs.errors import FRSError

MIN_SECONDS = 1.0
MAX_SECONDS = 15.0
SAMPLE_FPS = 10.0
MAX_SIDE = 640
MAX_FRAME_SIDE = 4096
MAX_DECODED_FRAMES = 15 * 240  # 240 fps for the longest accepted clip


@dataclass(frozen=True)
class Video:
    """Sampled frames (RGB uint8, shrunk), their times in seconds from the start, the clip's
    duration in seconds and its original frame size (width, height)."""

    frames: list[np.ndarray]
    times: list[float]
    duration: float
    size: tuple[int, int]


def _shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    height, width = frame.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return frame
    return cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def _upright(frame: np.ndarray, rotation: float) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, PyAV's `VideoFrame.rotation`);
    only quarter turns occur in practice, anything else is left as decoded."""
    turns = round(rotation / 90.0)
    if turns % 4 == 0 or abs(rotation - 90.0 * turns) > 1.0:
        return frame
    return np.ascontiguousarray(np.rot90(frame, k=turns))


def _declared_duration(container: av.container.InputContainer, stream: av.video.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def decode_video(data: bytes, parse_error: str = "FRS.0701", sample_fps: float = SAMPLE_FPS,
                 max_side: int = MAX_SIDE, min_seconds: float = MIN_SECONDS,
                 max_seconds: float = MAX_SECONDS) -> Video:
    """Decode and sample a clip; see the module docstring for the errors raised."""
    if not data:
        raise FRSError(parse_error, "the video is empty")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as error:
        raise FRSError(parse_error, f"not a video container ({type(error).__name__})") from None
    with container:
        if not container.streams.video:
            raise FRSError(parse_error, "the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        declared = _declared_duration(container, stream)
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        if declared is not None and declared > max_seconds + 0.5:
            raise FRSError("FRS.0706", f"{declared:.1f} s is longer than {max_seconds:.0f} s")
        frames, times, last_time, last_slot, decoded, size = [], [], -1.0, -1, 0, (0, 0)
        try:
            for frame in container.decode(stream):
                decoded += 1
                if frame.width >= MAX_FRAME_SIDE or frame.height >= MAX_FRAME_SIDE:
                    raise FRSError("FRS.0013", f"frames of {frame.width}x{frame.height}")
                if decoded > MAX_DECODED_FRAMES:
                    raise FRSError("FRS.0706", f"more than {MAX_DECODED_FRAMES} frames")
                size = (frame.width, frame.height)
                when = float(frame.time) if frame.time is not None else decoded / (rate or 25.0)
                if when > max_seconds + 0.5:
                    raise FRSError("FRS.0706", f"longer than {max_seconds:.0f} s")
                last_time = max(last_time, when)
                slot = int(when * sample_fps + 1e-6)  # one kept frame per 1/sample_fps slot
                if slot > last_slot:
                    last_slot = slot
                    pixels = _upright(frame.to_ndarray(format="rgb24"), frame.rotation)
                    frames.append(_shrink(pixels, max_side))
                    times.append(when)
        except av.error.FFmpegError as error:
            raise FRSError(parse_error, f"the video data is corrupt ({type(error).__name__})") from None
    if not frames:
        raise FRSError(parse_error, "no frame could be decoded")
    duration = max(declared or 0.0, last_time - times[0] + (1.0 / rate if rate else 0.0))
    if duration < min_seconds:
        raise FRSError("FRS.0706", f"{duration:.2f} s is shorter than {min_seconds:.0f} s")
    if duration > max_seconds + 0.5:
        raise FRSError("FRS.0706", f"{duration:.1f} s is longer than {max_seconds:.0f} s")
    start = times[0]
    return Video(frames, [t - start for t in times], duration, size)
