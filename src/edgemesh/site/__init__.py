"""A site: one database and the services over it, all-in-one or embedded."""

ALL_IN_ONE = ("coordinator", "control-plane")
"""The services `edgemesh up` runs, in the order it starts them."""
