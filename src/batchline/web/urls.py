"""The web interface's URLs: each workspace module contributes its own `urlpatterns`."""

from batchline.web.views import home

app_name = "web"

urlpatterns = [
    *home.urlpatterns,
]
