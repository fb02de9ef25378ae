"""Changes to the on-call roster made while the service runs (dashboard, Telegram): dated
covers and absences stored in the database, layered over ``ONCALL_FILE``."""
