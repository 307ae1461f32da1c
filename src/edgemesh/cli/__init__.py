"""The `edgemesh` command line."""
