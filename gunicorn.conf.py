"""gunicorn settings for running from a checkout: `gunicorn 'service:create_app()'`."""

from service.gunicorn_conf import *  # noqa: F403
