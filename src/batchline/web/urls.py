"""The web interface's URLs: each workspace module contributes its own `urlpatterns`."""

from batchline.web.views import audit, auth, config, home, imports, interfaces, masterdata, parked, users

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
]
