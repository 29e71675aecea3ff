"""OpenCPMS on RabbitMQ: the exchange topology, CloudEvents on the wire, a confirming
publisher, RPC client and server, an event consumer that acks after commit, and the outbox
relay."""
