"""gunicorn settings for `make run` (and a sane start for production behind a proxy).

gthread workers: each worker serves `threads` requests at once, so a client that sends its
request slowly holds one thread, not a whole worker; the rest keep answering. That raises the
bar (it takes `threads` x workers trickling clients to stall the server), it does not remove
it: in production a buffering reverse proxy (nginx, a load balancer) goes in front, reading
slow clients' requests whole before passing them on.
"""

worker_class = "gthread"
threads = 16
timeout = 30  # a worker that stops heartbeating for this long is restarted
graceful_timeout = 10
keepalive = 5
accesslog = "-"
