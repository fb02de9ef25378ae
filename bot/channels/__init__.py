"""The messaging platforms, one folder each with both directions, and what they share: the
inbox writer (``intake``) and the registry of senders (``registry``)."""
