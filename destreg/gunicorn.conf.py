"""gunicorn settings: ``gunicorn -c destreg/gunicorn.conf.py destreg.wsgi …`` (docs/deploy.md).

Its access and error logs pass through the same ID-number mask as Django's own log lines, so a
身份证号 in a query string (a reviewer's search, say) never reaches a log file in clear.
"""

import logging


def on_starting(server) -> None:
    """Mask both of gunicorn's loggers in the master, before the workers fork from it."""
    from destreg.lib.pii import PiiLogFilter

    for name in ("gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).addFilter(PiiLogFilter())
