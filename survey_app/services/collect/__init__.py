"""Collecting answers: the survey instruments (``surveys/*.toml``) and their versions, the
survey behind a public code, validating and storing a response, the signed form tokens
the survey and petition forms share, the ballot-stuffing checks, and the clean-up every
typed text goes through."""
