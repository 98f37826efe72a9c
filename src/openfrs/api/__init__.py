"""HTTP surface: FRS v1/v2 routes, request ids, auth seam and the single FRS error mapping."""
