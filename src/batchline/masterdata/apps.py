from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    name = "batchline.masterdata"
    label = "masterdata"
    verbose_name = "Master data"

    def ready(self) -> None:
        from batchline.compliance.meanings import Meaning, register
        from batchline.masterdata.registry import KINDS

        approve = Meaning("approve", "Approved", "批准", "masterdata.approve")
        for kind in KINDS.values():
            register(kind.record_type, approve)
