"""The owners' dashboard (``/dashboard``), served by the HTTP edge."""

from adapters.inbound.http.dashboard.pages import Dashboard, DashboardSettings, cookie_name

__all__ = ["Dashboard", "DashboardSettings", "cookie_name"]
