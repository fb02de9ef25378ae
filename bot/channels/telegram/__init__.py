"""Telegram: inbound updates, the sender, the webhook's registration and files' fetching."""
