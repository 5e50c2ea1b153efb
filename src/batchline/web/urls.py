"""The web interface's URLs: each workspace module contributes its own `urlpatterns`."""

from batchline.web.views import audit, auth, config, home, masterdata, users

app_name = "web"

urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *users.urlpatterns,
    *masterdata.urlpatterns,
    *config.urlpatterns,
    *audit.urlpatterns,
]
