"""Reports: keeping the rollups up to date, building a report from them, the filters and
cached charts every report view shares, numbers and sentences in the reader's language,
the PDF and the CSV/XLSX exports, the open comments with their moderation, and
publishing results to the public page."""
