"""Pure compute on numpy arrays: detectors, landmarks, alignment, embedders (ONNX Runtime)."""
