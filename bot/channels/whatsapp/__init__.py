"""WhatsApp through Twilio: inbound messages (parsing, signature) and the sender."""
