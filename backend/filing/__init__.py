"""Filing (备案) with the county health commission: the institution's dossier of documents, its
submission, the officer's decision (approve or return with reasons), the review time limit."""
