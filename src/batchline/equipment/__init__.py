"""equipment: the equipment register, status and logbook, qualification, calibration, cleaning,
balances and PLC values over OPC UA, OEE (issue 5)."""
