"""The web interface's URLs: each workspace module contributes its own `urlpatterns`."""

from batchline.web.views import (
    audit,
    auth,
    config,
    environment,
    equipment,
    equipment_devices,
    home,
    imports,
    interfaces,
    masterdata,
    parked,
    users,
    warehouse_picking,
    warehouse_receiving,
    warehouse_stock,
)

app_name = "web"

urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *users.urlpatterns,
    *imports.urlpatterns,  # before masterdata: its masterdata/<kind>/ would take masterdata/import/
    *masterdata.urlpatterns,
    *config.urlpatterns,
    *audit.urlpatterns,
    *interfaces.urlpatterns,
    *parked.urlpatterns,
    *warehouse_stock.urlpatterns,  # the warehouse workspace (web:warehouse) and stock views
    *warehouse_receiving.urlpatterns,
    *warehouse_picking.urlpatterns,
    *equipment.urlpatterns,  # the equipment workspace (web:equipment)
    *equipment_devices.urlpatterns,
    *environment.urlpatterns,  # the environment workspace (web:environment)
]
