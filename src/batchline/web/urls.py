"""The web interface's URLs: each workspace module contributes its own `urlpatterns`."""

from batchline.web.views import audit, config, home, masterdata

app_name = "web"

urlpatterns = [
    *home.urlpatterns,
    *masterdata.urlpatterns,
    *config.urlpatterns,
    *audit.urlpatterns,
]
