"""The review loop: messages the crisis detector was unsure about and free text the bot did
not understand, kept (with consent) for staff to label risk / no risk, and exported in the
corpus format for the next training (``python -m bot.escalation.export-labels``)."""
