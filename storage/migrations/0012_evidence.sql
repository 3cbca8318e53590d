-- Issue 12: nothing lost silently.
--
-- time_source says where an event's time came from: 'device' (its own
-- timestamp) or 'received' (the line had none, so the receive time; an ASA
-- without "logging timestamp" sends such lines).
--
-- message holds the line as shown: invalid UTF-8 replaced by U+FFFD, byte
-- by byte. message_bytes holds the exact bytes received when they differ
-- (empty otherwise), and raw is the line as received in every case, for
-- evidence: SELECT raw FROM events WHERE event_id = ...

ALTER TABLE events
    ADD COLUMN IF NOT EXISTS time_source String DEFAULT 'device' AFTER time,
    ADD COLUMN IF NOT EXISTS message_bytes String CODEC(ZSTD(3)) AFTER message,
    ADD COLUMN IF NOT EXISTS raw String ALIAS if(message_bytes = '', message, message_bytes);
