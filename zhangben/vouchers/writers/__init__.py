"""One module per target product; each is pure: ``write(book, vouchers, template) -> bytes``.

``WRITERS`` maps a book's ``product`` to its writer; ``template`` is the bytes of the file the
customer exported from their own system (None where the writer needs none)."""
