"""The senders: the interface every channel's sender implements, and each platform's."""
