"""Officials and what they manage: accounts, grants and the scope every official page
loads through, the unit tree and finding a unit by code or path, campaigns, API keys and
the audit log."""
