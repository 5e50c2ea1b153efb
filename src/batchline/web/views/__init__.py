"""Web views, one module per workspace; each module exports `urlpatterns`."""
