"""The HTTP contract as data: typed bodies (`types`) and the table of endpoints (`endpoints`)."""
