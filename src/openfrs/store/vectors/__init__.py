"""Per-face-set vector indexes for 1:N search (see base.py for the contract)."""

from openfrs.store.vectors.base import SearchResult, VectorIndex
from openfrs.store.vectors.exact import ExactIndex
from openfrs.store.vectors.hnsw import HnswIndex
from openfrs.store.vectors.milvus import MilvusIndex
from openfrs.store.vectors.tiered import TieredIndex

__all__ = ["ExactIndex", "HnswIndex", "MilvusIndex", "SearchResult", "TieredIndex", "VectorIndex"]
