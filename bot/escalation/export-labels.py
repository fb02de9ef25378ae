"""``python -m bot.escalation.export-labels``: see :mod:`bot.escalation.export_labels`."""

import sys

from bot.escalation.export_labels import main

sys.exit(main())
