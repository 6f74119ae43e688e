"""Framework-free statistics for Hài Lòng reports.

Pure functions over count tables; imports no Flask. See ``analysis/README.md``.
"""
