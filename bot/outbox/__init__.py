"""The outbox: what the bot has to say, to whom, and by which rules, until it is sent.

Every message to a person or to staff is a row of ``outbound_message`` written in the
transaction that decided it (:mod:`bot.outbox.queue`); :mod:`bot.delivery` sends the rows.
This package owns what both sides share: the reply types (:mod:`bot.outbox.reply`), the
WhatsApp window rules (:mod:`bot.outbox.window`), what a failed send says
(:mod:`bot.outbox.failures`, :mod:`bot.outbox.person_marks`) and the names of channels,
statuses and purposes (:mod:`bot.outbox.enums`). It imports neither the conversation
engine (``bot.flows``) nor the dispatcher (``bot.delivery``).
"""
