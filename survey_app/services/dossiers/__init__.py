"""Dossiers from the one-stop software: the API's and the CSV import's writes
(:mod:`.operations`), their JSON (:mod:`.views`), response rates and the national portal's
figures (:mod:`.figures`)."""
