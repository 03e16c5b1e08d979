"""FastAPI layer: starts workflows, sends them updates, reads their state and the read model."""
