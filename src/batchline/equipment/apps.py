from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "batchline.equipment"
    label = "equipment"
    verbose_name = "Equipment"

    def ready(self) -> None:
        from batchline.compliance.meanings import Meaning, register

        # equipment.status.release_equipment: QA lifts maintenance, out of service or quarantine (EQ-01)
        register("equipment.equipment",
                 Meaning("release", "Equipment released for use", "设备放行使用", "equipment.release"))
        # equipment.qualification: each record is signed by the person recording it (EQ-02)
        register("equipment.qualification",
                 Meaning("qualification", "Qualification recorded", "确认记录签名", "equipment.qualify"))
        register("equipment.calibration",
                 Meaning("calibration", "Calibration recorded", "校准记录签名", "equipment.qualify"))
        # equipment.cleaning.verify_cleaning: the second person's verification (EQ-03, four eyes)
        register("equipment.cleaningrecord",
                 Meaning("verify", "Cleaning verified", "清洁复核", "equipment.verify"))
