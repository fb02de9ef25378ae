"""Training the crisis detector's model and measuring the detector against the labelled corpus
(``bot.escalation.detection`` is what the service runs)."""
