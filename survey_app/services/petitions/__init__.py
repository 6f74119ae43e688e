"""Petitions (góp ý, phản ánh, kiến nghị): filing with a tracking code, the public status,
the officials' workflow and the accountability figures (:mod:`.operations`), the
working-day calendar their legal time limits are counted in (:mod:`.workdays`), and the
wording of categories and statuses that citizens and officials both read (:mod:`.labels`)."""
