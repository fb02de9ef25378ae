"""Telegram: inbound updates and their webhook route, the sender, the webhook's registration
(``set-webhook``) and the fetching of files."""
