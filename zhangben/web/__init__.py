"""What the HTTP surfaces share below their own wire formats: the request body limit
(:mod:`~zhangben.web.bodylimit`) and the answer to a database outage
(:mod:`~zhangben.web.outage`), each rendered by every surface in its own format; and the
service around them: every request observed once (:mod:`~zhangben.web.observe`: request ids,
the metrics of :mod:`~zhangben.web.metrics`, the JSON lines of :mod:`~zhangben.web.logs`),
liveness and readiness (:mod:`~zhangben.web.health`) and Swagger UI from the package
(:mod:`~zhangben.web.docs`)."""
