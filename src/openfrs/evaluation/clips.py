"""Test and evaluation clips: encode RGB frames with PyAV's real encoders, and fit stills onto one canvas."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np


def encode_clip(frames: list[np.ndarray], fps: int, container: str = "mp4", codec: str = "libx264") -> bytes:
    """Encode RGB frames (all one even size: yuv420p needs it) into a clip in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def on_canvas(image: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The image scaled to fit `size` (width, height) without distortion, centred on grey."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    shrunk = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                        interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 128, np.uint8)
    top, left = (height - shrunk.shape[0]) // 2, (width - shrunk.shape[1]) // 2
    canvas[top:top + shrunk.shape[0], left:left + shrunk.shape[1]] = shrunk
    return canvas
