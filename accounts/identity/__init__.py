"""Enterprise identity: sign-in with the company directory (LDAP / Active Directory) and single sign-on
(OpenID Connect), next to the suite's own local passwords.

Configured, not rewritten: django-auth-ldap does the directory bind and search, mozilla-django-oidc the
authorization-code flow (PKCE, state, nonce). This package adds what is ours:

- `config`: the settings read at call time (so a test or a reload sees the current values);
- `names`: which sign-in names may reach the directory at all;
- `services`: the one write that applies a directory profile to a user (fields, manager, roles, groups),
  shared by LDAP sign-in, the nightly sync and OIDC sign-in, and the deactivation of leavers;
- `ldap`, `oidc`, `backends`: the three authentication backends;
- `sync`: the nightly directory sync; `directory`: the admin page's read-only checks.
"""
