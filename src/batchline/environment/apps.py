from django.apps import AppConfig


class EnvironmentConfig(AppConfig):
    name = "batchline.environment"
    label = "environment"
    verbose_name = "Environment"

    def ready(self) -> None:
        from batchline.compliance.meanings import Meaning, register

        # An alarm is acknowledged with an electronic signature (EQ-06).
        register("environment.alarm",
                 Meaning("acknowledge", "Alarm acknowledged", "报警已确认", "environment.acknowledge"))
