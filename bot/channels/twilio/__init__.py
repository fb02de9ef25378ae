"""Twilio, shared by WhatsApp and SMS: the HTTP client, the sender base, error codes, delivery
receipts and the SMS sender."""
