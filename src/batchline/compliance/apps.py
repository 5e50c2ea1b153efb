from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "batchline.compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from batchline.compliance import subscribers  # noqa: F401  (registers the audit handlers)
