"""The HTTP edge: the only package that speaks ASGI. It turns requests into service calls and
service results or domain errors into responses; no SQL and no business rule live here."""
