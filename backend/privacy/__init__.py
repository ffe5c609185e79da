"""A family's rights over its data (PIPL): export everything the platform holds, erase it, retention."""
