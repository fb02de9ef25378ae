import os

# python-telegram-bot 22: durations as timedeltas (and no deprecation warning).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.cli import main

raise SystemExit(main())
