"""Operations on existing runs: cancel and replay, the listing indexes, the streams."""
