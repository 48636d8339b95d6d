"""What the HTTP surfaces share below their own wire formats: the request body limit
(:mod:`~zhangben.web.bodylimit`) and the answer to a database outage
(:mod:`~zhangben.web.outage`). Each surface renders the refusals in its own format."""
