"""integration: the outbox relay (`batchline worker`) and the transports that carry events to other
systems (webhook, AMQP, MQTT). Configuration and delivery state live in core (Destination,
Delivery) so that the web and API layers can show and act on them."""
