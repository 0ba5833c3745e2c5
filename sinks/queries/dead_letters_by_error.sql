-- Question: Which input was rejected, from which topic, and why (dead letters accounted for)?
-- Distinct dead letters by source topic and error class, with the first and last processing time.
SELECT
    CAST(source_topic AS String) AS source_topic,
    -- One vocabulary (schemas.enums.DeadLetterReason); rows landed before it say 'DecodeError'.
    if(error_class = 'DecodeError', 'decode_error', CAST(error_class AS String)) AS error_class,
    count() AS dead_letters,
    min(processed_at) AS first_at,
    max(processed_at) AS last_at
FROM {db}.dead_letters_distinct
GROUP BY source_topic, error_class
ORDER BY source_topic, error_class
