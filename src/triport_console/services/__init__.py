"""Services: the contract's rules in plain Python, between the HTTP edge and the store."""
