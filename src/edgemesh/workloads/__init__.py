"""Workloads and their units: submission, leasing, results."""
