"""The psychologists' dashboard: sign-in, case queue, case work, roster, reports, exports.

The router is in :mod:`bot.dashboard.routes`; tables in :mod:`bot.dashboard.models`, the
accounts' in :mod:`bot.accounts.models`.
"""
