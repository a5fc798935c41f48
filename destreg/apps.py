from django.apps import AppConfig


class DestregConfig(AppConfig):
    name = "destreg"

    def ready(self) -> None:
        from destreg import invalidation

        invalidation.connect()  # every cache invalidation rule, in one file
