from ninja import NinjaAPI

api = NinjaAPI(title="Batchline API", version="1", urls_namespace="api")
