"""Operator accounts, roles and permissions (ADM-2, SEC-1, SEC-2)."""

from appliance.auth.roles import PERMISSIONS, ROLES, permissions_of
from appliance.auth.users import AuthError, User, UserStore

__all__ = ["PERMISSIONS", "ROLES", "AuthError", "User", "UserStore", "permissions_of"]
