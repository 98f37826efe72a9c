"""FRS route modules, one per resource."""
