"""Client-side modules at the paths Hatchet programs import them from."""
