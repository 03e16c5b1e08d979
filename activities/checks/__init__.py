"""Automated checks on submitted content."""
