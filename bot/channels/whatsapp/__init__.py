"""WhatsApp through Twilio: inbound messages, their webhook route, and the sender."""
