"""ONNX Runtime sessions and OpenCV: one place that picks providers and thread counts."""

from __future__ import annotations

from pathlib import Path

import cv2
import onnxruntime as ort


def configure_cv2_threads(intra_threads: int | None) -> None:
    """Make OpenCV single-threaded when inference runs single-threaded sessions.

    Why: intra_threads == 1 means the service runs one single-threaded worker per core;
    OpenCV's own pool would still spread every cv2.resize / warpAffine over all cores in
    every worker and oversubscribe them. Otherwise cv2's default is left alone. The
    setting is process-wide (cv2.setNumThreads), like the workers sharing it.
    """
    if intra_threads == 1:
        cv2.setNumThreads(1)


def available_providers(prefer_gpu: bool = True) -> list[str]:
    """CUDA first when the installed onnxruntime build offers it, CPU always last."""
    have = ort.get_available_providers()
    chosen = []
    if prefer_gpu and "CUDAExecutionProvider" in have:
        chosen.append("CUDAExecutionProvider")
    chosen.append("CPUExecutionProvider")
    return chosen


def create_session(path: Path, intra_threads: int | None = None) -> ort.InferenceSession:
    """Open an ONNX model with graph optimisations on and a bounded thread count."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_threads or 0  # 0: ONNX Runtime uses every core
    options.inter_op_num_threads = 1
    # Several sessions run back to back (detector, embedder): spinning worker threads of one
    # would steal the cores from the next, so idle threads sleep instead.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=available_providers())
