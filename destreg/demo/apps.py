from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data only. It may import every app; no app imports it."""

    name = "destreg.demo"
    label = "demo"
