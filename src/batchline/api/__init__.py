"""api: the REST API at /api/v1 (django-ninja), for ERP, WMS, LIMS and the plant's own HMIs."""
