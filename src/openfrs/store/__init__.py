"""Persistence behind small interfaces: metadata store (source of truth) and vector indexes."""
