from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "batchline.identity"
    label = "identity"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        from batchline.core.events import declare_required
        from batchline.identity.events import ACCESS_CHANGED

        declare_required(ACCESS_CHANGED)
