"""Temporal workflows, one module per business process, with their contracts."""
