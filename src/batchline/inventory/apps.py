from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "batchline.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from batchline.compliance.meanings import Meaning, register

        # ledger.LOT_RECORD_TYPE: a lot's status change is signed with this meaning (WMS-03)
        register("inventory.lot",
                 Meaning("lot_status", "Lot status decided", "批次状态判定", "inventory.change_lot_status"))
        register("inventory.cyclecount",
                 Meaning("approve", "Count variance approved", "盘点差异批准", "inventory.approve_count"))
