"""Imports every module that defines tables, so ``SQLModel.metadata`` knows them all.

Alembic's env.py and the tests import this module; a new domain package with its own
``models.py`` adds one import line here.
"""

from bot.accounts import models as account_models  # noqa: F401
from bot.dashboard import models as dashboard_models  # noqa: F401
from bot.db import models  # noqa: F401
from bot.escalation import models as escalation_models  # noqa: F401
from bot.escalation.oncall import models as oncall_models  # noqa: F401
