"""gunicorn for `make prod`: TLS served by gunicorn itself, threaded workers, one per core."""

import multiprocessing
import os

bind = os.environ.get("VIGIE_BIND", "127.0.0.1:8443")
certfile = os.environ["VIGIE_TLS_CERT"]
keyfile = os.environ["VIGIE_TLS_KEY"]
wsgi_app = "config.wsgi:application"
worker_class = "gthread"
workers = multiprocessing.cpu_count()
threads = 4
# The password links carry their token in the path: no access log (errors still go to stderr).
accesslog = None
errorlog = "-"
