"""Accuracy evaluations (`openfrs eval ...`) run through the same code path the API uses."""
