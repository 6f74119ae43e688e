"""Bringing data in outside the web form: paper forms typed into CSV or Excel, and the demo
tree, accounts, campaigns and year of history that ``make run`` loads."""
