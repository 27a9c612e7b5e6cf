-- silver.cleaned_events: cleaned, classified, deduplicated events (SEED-FACTS §3.3 + our fixes).
--
-- Views provided by the runner:
--   bronze_batch     bronze.raw_events rows to clean (column `user` renamed to `user_raw`) and
--                    batch_row, a number unique within the batch (a row id)
--   silver_existing  silver rows already stored for the event dates of the batch
--                    (event_date, event_id, log_partition, log_offset, bronze_processed_at)
-- Parameters: {control_chars} {ipv4_pattern} {ipv6_pattern} {temporary_pattern} {schema_version}
-- Output: the silver columns except silver_processed_at (stamped by the runner), plus
--   replaces_existing  true when the row beats a stored duplicate, which must be deleted.
--
-- Dedup key: (event_date, event_id). The survivor is the row with the earliest log position
-- (log_partition, log_offset), then the earliest bronze_processed_at; on a full tie the stored row
-- wins. The same order applies inside the batch and against stored rows, so processing bronze in
-- any number of increments gives the same table as one full pass.
WITH valid AS (
    SELECT *
    FROM bronze_batch
    WHERE event_id IS NOT NULL
      AND event_type IS NOT NULL
      AND domain IS NOT NULL
      AND event_timestamp IS NOT NULL
),
cleaned AS (
    SELECT
        event_id,
        rc_id,
        event_type,
        domain,
        CASE domain
            WHEN 'zh.wikipedia.org' THEN 'asia_pacific'
            WHEN 'ja.wikipedia.org' THEN 'asia_pacific'
            WHEN 'ko.wikipedia.org' THEN 'asia_pacific'
            WHEN 'vi.wikipedia.org' THEN 'asia_pacific'
            WHEN 'id.wikipedia.org' THEN 'asia_pacific'
            WHEN 'th.wikipedia.org' THEN 'asia_pacific'
            WHEN 'de.wikipedia.org' THEN 'europe'
            WHEN 'fr.wikipedia.org' THEN 'europe'
            WHEN 'it.wikipedia.org' THEN 'europe'
            WHEN 'es.wikipedia.org' THEN 'europe'
            WHEN 'pl.wikipedia.org' THEN 'europe'
            WHEN 'nl.wikipedia.org' THEN 'europe'
            WHEN 'ru.wikipedia.org' THEN 'europe'
            WHEN 'en.wikipedia.org' THEN 'americas'
            WHEN 'pt.wikipedia.org' THEN 'americas'
            WHEN 'ar.wikipedia.org' THEN 'middle_east'
            WHEN 'fa.wikipedia.org' THEN 'middle_east'
            WHEN 'he.wikipedia.org' THEN 'middle_east'
            ELSE 'other'
        END AS region,
        -- every mapped domain's language code is its first two letters, as is the fallback
        SUBSTRING(domain, 1, 2) AS language,
        title,
        namespace,
        user_raw,
        COALESCE(is_bot, FALSE) AS is_bot,
        length_old,
        length_new,
        length_delta,
        revision_old,
        revision_new,
        COALESCE(length_delta < -5000, FALSE) AS is_large_deletion,
        COALESCE(length_delta > 50000, FALSE) AS is_large_addition,
        event_timestamp,
        bronze_processed_at,
        CAST(CAST(event_timestamp AS DATE) AS STRING) AS event_date,
        CAST(HOUR(event_timestamp) AS INT) AS event_hour,
        log_partition,
        log_offset,
        batch_row
    FROM valid
),
-- names are normalized and classified once per distinct raw name, not once per event
users AS (
    SELECT
        user_raw,
        user_normalized,
        CASE
            WHEN regexp_like(user_normalized, {ipv4_pattern}) THEN 'ip'
            WHEN regexp_like(user_normalized, {ipv6_pattern}) THEN 'ip'
            WHEN regexp_like(user_normalized, {temporary_pattern}) THEN 'temporary'
            ELSE 'registered'
        END AS user_kind
    FROM (
        SELECT user_raw, TRIM(TRANSLATE(user_raw, {control_chars}, '')) AS user_normalized
        FROM (SELECT DISTINCT user_raw FROM cleaned WHERE user_raw IS NOT NULL) AS raw_names
    ) AS names
),
classified AS (
    SELECT cleaned.*, users.user_normalized, users.user_kind
    FROM cleaned
    LEFT JOIN users ON users.user_raw = cleaned.user_raw
),
-- only stored rows sharing an event id with the batch take part in the contest
stored AS (
    SELECT event_date, event_id, log_partition, log_offset, bronze_processed_at
    FROM silver_existing
    WHERE event_id IN (SELECT event_id FROM valid)
),
-- one window over narrow keys decides both the in-batch dedup and the contest with stored rows
contest AS (
    SELECT
        batch_row,
        from_batch,
        ROW_NUMBER() OVER (
            PARTITION BY event_date, event_id
            ORDER BY log_partition ASC NULLS LAST, log_offset ASC NULLS LAST,
                     bronze_processed_at ASC NULLS LAST, from_batch ASC
        ) AS rank_overall
    FROM (
        SELECT event_date, event_id, log_partition, log_offset, bronze_processed_at,
               0 AS from_batch, CAST(NULL AS BIGINT) AS batch_row
        FROM stored
        UNION ALL
        SELECT event_date, event_id, log_partition, log_offset, bronze_processed_at,
               1 AS from_batch, batch_row
        FROM classified
    ) AS candidates
),
best AS (
    SELECT classified.*
    FROM classified
    JOIN contest
        ON contest.batch_row = classified.batch_row
        AND contest.from_batch = 1
        AND contest.rank_overall = 1
)
SELECT
    best.event_id,
    best.rc_id,
    best.event_type,
    best.domain,
    best.region,
    best.language,
    best.title,
    best.namespace,
    best.user_normalized,
    best.is_bot,
    COALESCE(best.user_kind IN ('ip', 'temporary'), FALSE) AS is_anonymous,
    best.length_old,
    best.length_new,
    best.length_delta,
    best.revision_old,
    best.revision_new,
    TRUE AS is_valid,
    best.is_large_deletion,
    best.is_large_addition,
    best.event_timestamp,
    best.bronze_processed_at,
    best.event_date,
    {schema_version} AS schema_version,
    best.user_kind,
    best.event_hour,
    best.log_partition,
    best.log_offset,
    stored.event_id IS NOT NULL AS replaces_existing
FROM best
LEFT JOIN stored
    ON stored.event_date = best.event_date
    AND stored.event_id = best.event_id
