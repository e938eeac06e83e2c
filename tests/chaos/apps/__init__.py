"""Worker targets of the chaos suite (each module builds its ``Hatchet`` at import)."""
