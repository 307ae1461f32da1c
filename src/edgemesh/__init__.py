"""edgemesh: a self-hostable compute mesh."""

__version__ = "0.1.0"
