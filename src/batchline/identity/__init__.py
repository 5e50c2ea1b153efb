"""identity: users, roles and permissions, password/lockout/session policy, API tokens."""
