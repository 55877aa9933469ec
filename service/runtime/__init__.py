"""The process: serve, the gunicorn worker, config, logs, metrics, the demo."""
