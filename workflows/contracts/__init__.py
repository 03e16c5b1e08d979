"""Pydantic inputs and outputs of workflows and activities: no DB or SDK imports here."""
