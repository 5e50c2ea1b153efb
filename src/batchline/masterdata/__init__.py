"""masterdata: units, materials, sites/areas/rooms, warehouses/locations, partners, number rules, code maps."""
