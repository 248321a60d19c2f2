-- Level 10: account lockout (SEC-2; issue 13 "account lockout after repeated failed logins").
-- After LOCKOUT_AFTER wrong passwords in a row (appliance/auth/users.py) the account is
-- locked until ``locked_until`` (epoch seconds) or ``appliancectl users unlock NAME``.

ALTER TABLE users ADD COLUMN locked_until REAL;
