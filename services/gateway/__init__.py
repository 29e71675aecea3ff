"""OpenCPMS gateway: the stateless OCPP-J websocket server. It translates OCPP 1.6, 2.0.1 and 2.1
frames into version-neutral OpenCPMS contracts on RabbitMQ and back, and owns no database."""
