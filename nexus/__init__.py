"""Shared core of NEXUS: settings, CLI, embedded dev stack, telemetry, Temporal client factory."""
