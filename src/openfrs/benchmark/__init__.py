"""Speed benchmarks (`openfrs bench`): medians and ratios from one run, with a peer where possible."""
