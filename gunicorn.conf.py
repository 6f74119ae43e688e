"""Gunicorn settings for ``make run`` (``gunicorn -c gunicorn.conf.py wsgi:app``).

The bind address stays on the command line (the Makefile's ``PORT``). The access log goes
to standard output through ``survey_app.accesslog.RedactingLogger``: one-time codes,
tracking codes and kiosk enrolment secrets never reach it.
"""
workers = 2
accesslog = "-"
logger_class = "survey_app.accesslog.RedactingLogger"
