"""Bringing data in outside the web form: paper forms typed into CSV or Excel, and the demo
tree, accounts, campaigns and year of history that ``make run`` loads; and the spreadsheet
writer every export goes through (``spreadsheet``: no cell may run as a formula)."""
