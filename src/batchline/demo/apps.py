from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Entry points for people running Batchline: the demo plant loader, the server, account creation.

    No models: everything the demo creates goes through the other contexts' services.
    """

    name = "batchline.demo"
    label = "demo"
    verbose_name = "Demo plant and run commands"
