"""A site: one database and the services over it, all-in-one or embedded."""
