"""The owners' dashboard (``/dashboard``), served by the HTTP edge."""

from adapters.inbound.http.dashboard.pages import (
    LOGIN_PATH,
    SIGNIN_PATH,
    Dashboard,
    DashboardSettings,
    cookie_name,
)

__all__ = ["LOGIN_PATH", "SIGNIN_PATH", "Dashboard", "DashboardSettings", "cookie_name"]
