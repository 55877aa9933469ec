"""gunicorn settings for running from a checkout: `gunicorn 'service:create_app()'`."""

from service.runtime.gunicorn_conf import *  # noqa: F403
