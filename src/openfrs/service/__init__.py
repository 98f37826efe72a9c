"""Use cases (detect, compare, ...): business rules and FRS error codes, no HTTP and no SQL."""
