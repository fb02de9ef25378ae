"""Outbound delivery to the messaging platforms."""
