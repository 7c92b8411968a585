"""gunicorn settings for serving the planner in production: `gunicorn wizard.wsgi -c gunicorn.conf.py`.

Every value can be changed from the environment (see `.env.example`). The server refuses to
start without DJANGO_SECRET_KEY or with DJANGO_DEBUG on: this file is only for production.
"""
from __future__ import annotations

import os
import sys


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be a whole number, not {value!r}")
    if number < 1:
        sys.exit(f"gunicorn.conf.py: {name} must be at least 1, not {number}")
    return number


if not os.environ.get("DJANGO_SECRET_KEY", "").strip():
    sys.exit("gunicorn.conf.py: DJANGO_SECRET_KEY is not set; refusing to serve without it (see .env.example)")
if os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
    sys.exit("gunicorn.conf.py: DJANGO_DEBUG is on; gunicorn serves production only (use `make run` to develop)")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

# Loopback by default: a TLS-terminating reverse proxy on the same host forwards to it.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Processes do the Python work (rendering is CPU-bound, so threads share one core per process);
# a few threads per process keep a slow client or a database wait from idling the process.
workers = _env_int("GUNICORN_WORKERS", max(2, min(2 * (os.cpu_count() or 1), 8)))
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Recycle each worker now and then so that memory growth (if any) stays bounded.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# Load the app once in the master: a configuration error stops the server at once instead of
# every worker failing to boot, and the workers share the loaded code.
preload_app = True

# Nothing written to disk at run time: no control socket, worker heartbeats in shared memory.
control_socket_disable = True
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn would believe X-Forwarded-Proto (and so call a request HTTPS) from 127.0.0.1 by default:
# trust no address unless GUNICORN_FORWARDED_ALLOW_IPS names the proxy, and never take the scheme
# from headers here at all (Django does that itself, only with DJANGO_SECURE_PROXY_SSL_HEADER on).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "").strip()
secure_scheme_headers: dict[str, str] = {}

# Request line and headers stay within gunicorn's defaults; bodies are limited by Django
# (DJANGO_MAX_REQUEST_BYTES) and should be limited again by the proxy.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The access log has the request line, status and timing: never headers or bodies.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
proc_name = "lync-auth-planner"
