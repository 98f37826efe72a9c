"""Offline converters that turn third-party model files into OpenFRS pack artefacts."""
