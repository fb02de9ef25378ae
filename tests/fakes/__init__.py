"""Fake Telegram Bot API and Twilio REST API servers for offline tests."""
