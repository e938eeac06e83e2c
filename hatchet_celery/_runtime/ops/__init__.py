"""Operations on existing runs: cancel and replay, the streams."""
