from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "batchline.integration"
    label = "integration"
    verbose_name = "Integration"
