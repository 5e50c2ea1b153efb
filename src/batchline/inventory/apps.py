from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "batchline.inventory"
    label = "inventory"
    verbose_name = "Inventory"
