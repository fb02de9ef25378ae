"""The staff accounts (``DashboardUser``): one table, imported by the dashboard and the
on-call desk alike."""
