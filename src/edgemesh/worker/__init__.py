"""The worker runtime a contributor runs on each node."""
