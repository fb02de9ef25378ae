"""HTTP helpers both FastAPI apps share (the webhooks' app in ``bot.web`` and the dashboard):
the client's address behind trusted proxies, and the security headers on every response.

Below ``bot.settings``, ``bot.web`` and ``bot.dashboard``: it imports none of them."""
