"""Alerts: rules per unit and instrument (``rules``), their evaluation by the scheduled job
(``evaluate``), delivery by e-mail (``mail``) and the officials' inbox (``inbox``)."""
