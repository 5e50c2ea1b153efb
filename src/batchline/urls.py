from django.urls import include, path

from batchline.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("batchline.web.urls")),
]
