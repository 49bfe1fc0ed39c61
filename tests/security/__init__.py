"""The security suite: issue 13's probe of 431 attacks and bad inputs, kept as tests, by category.

Each module is named ``test_<category>[_<topic>].py`` and opens with a table of what it tries and what must
happen. ``conftest.py`` here prints, at the end of every run that includes these modules, the probe's table
re-run: per category, the cases tried, held (passed) and failed (each parametrised case counts as one).

| category | module(s) | what they try |
| --- | --- | --- |
| authorization | test_authorization_accounts.py | acting on accounts outside scope, on one's own account, on holders of permissions one lacks (an hr without ``pii`` resetting a ``pii`` holder), HR issuing itself a certificate |
| authentication | test_authentication.py | parallel bursts against the lockout, sessions and tokens after a password change or reset, the old or one-time password reused, ``tokens list/revoke``, a disabled account's login answer |
| CSRF | test_csrf.py | every unsafe route of the URL map with a cookie and no token, a junk Bearer header beside a cookie |
| injection | test_injection_markdown.py | Markdown that costs quadratic time or nests without end (size, nesting and time bounds) |
| exports | test_exports.py, test_exports_passwords.py | formulas (ASCII and full-width ``＝``) at the start of exported cells, the initial-password sheet, PII flags in export audit entries |
| imports/uploads | test_imports_roster.py, test_imports_uploads.py | roster re-imports with blank cells, XLSX bombs (a cell in column XFD), decompression-bomb images, symlinks out of the content folder |
| verification | test_verification.py | /verify with unknown, malformed and real codes, revoked certificates, lookups past the rate limit |
| other | test_other_params.py, test_other_checkin.py, test_other_headers.py | absurd list parameters (never a 500), check-in code guessing, the ``Server`` header and the security headers |
"""
