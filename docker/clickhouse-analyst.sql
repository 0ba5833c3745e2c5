-- A read-only analyst user for the compose ClickHouse (the local server gets one from its users.xml).
CREATE USER IF NOT EXISTS analyst IDENTIFIED WITH plaintext_password BY 'analyst' SETTINGS readonly = 1;
GRANT SELECT ON gridflow.* TO analyst;
