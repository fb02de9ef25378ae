"""After a disclosure: the durable check-in timers and the safety plan kept for the case."""
