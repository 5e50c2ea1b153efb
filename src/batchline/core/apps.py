from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "batchline.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from batchline.core.events import AUDITED_CHANGE, declare_required

        declare_required(AUDITED_CHANGE)
