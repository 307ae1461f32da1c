"""Credits: a double-entry journal in integer milli-credits."""
