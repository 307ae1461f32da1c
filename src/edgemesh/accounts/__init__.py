"""People: accounts, roles, passwords and API keys."""
