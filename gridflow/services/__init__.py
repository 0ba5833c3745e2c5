"""Local services (Kafka broker, clickhouse-server) that gridflow starts when none is configured."""
