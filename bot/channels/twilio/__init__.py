"""Twilio, shared by WhatsApp and SMS: the HTTP client, the sender base and the SMS sender,
error codes, the webhooks' form and signature check, delivery receipts and their status
route, and the fetching of files."""
