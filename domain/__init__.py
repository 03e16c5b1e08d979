"""Pure domain rules and arithmetic: no I/O, no Temporal, no SQL, no vendor types."""
