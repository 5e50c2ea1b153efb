from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "batchline.core"
    label = "core"
    verbose_name = "Core"
