-- gold.hourly_stats: one row per (stat_date, stat_hour, domain) with events (SEED-FACTS §4.2).
--
-- View provided by the runner:
--   silver_day  silver.cleaned_events rows of the dates being recomputed (every row of each date)
-- Parameters: {schema_version}
-- Output: the hourly_stats columns except gold_processed_at (stamped by the runner).
-- region is a function of domain, so grouping by it as the seed does changes nothing.
-- Distinct counts are taken over pre-grouped rows (same result as COUNT(DISTINCT), much faster).
WITH counts AS (
    SELECT
        event_date,
        event_hour,
        domain,
        region,
        COUNT(*) AS total_events,
        CAST(SUM(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END) AS BIGINT)
            AS bytes_added,
        CAST(SUM(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END) AS BIGINT)
            AS bytes_removed,
        AVG(CAST(ABS(COALESCE(length_delta, 0)) AS BIGINT)) AS avg_edit_size,
        CAST(SUM(CASE WHEN is_bot THEN 1 ELSE 0 END) AS BIGINT) AS bot_edits,
        CAST(SUM(CASE WHEN NOT is_bot THEN 1 ELSE 0 END) AS BIGINT) AS human_edits,
        CAST(SUM(CASE WHEN is_anonymous THEN 1 ELSE 0 END) AS BIGINT) AS anonymous_edits,
        CAST(SUM(CASE WHEN event_type = 'edit' THEN 1 ELSE 0 END) AS BIGINT) AS type_edit,
        CAST(SUM(CASE WHEN event_type = 'new' THEN 1 ELSE 0 END) AS BIGINT) AS type_new,
        CAST(SUM(CASE WHEN event_type = 'categorize' THEN 1 ELSE 0 END) AS BIGINT)
            AS type_categorize,
        CAST(SUM(CASE WHEN event_type = 'log' THEN 1 ELSE 0 END) AS BIGINT) AS type_log,
        CAST(SUM(CASE WHEN is_large_deletion THEN 1 ELSE 0 END) AS BIGINT) AS large_deletions,
        CAST(SUM(CASE WHEN is_large_addition THEN 1 ELSE 0 END) AS BIGINT) AS large_additions,
        CAST(SUM(CASE WHEN user_kind = 'ip' THEN 1 ELSE 0 END) AS BIGINT) AS ip_edits,
        CAST(SUM(CASE WHEN user_kind = 'temporary' THEN 1 ELSE 0 END) AS BIGINT)
            AS temporary_edits
    FROM silver_day
    GROUP BY event_date, event_hour, domain, region
),
users AS (
    SELECT event_date, event_hour, domain, COUNT(*) AS unique_users
    FROM (
        SELECT event_date, event_hour, domain, user_normalized
        FROM silver_day
        WHERE user_normalized IS NOT NULL
        GROUP BY event_date, event_hour, domain, user_normalized
    ) AS distinct_users
    GROUP BY event_date, event_hour, domain
),
pages AS (
    SELECT event_date, event_hour, domain, COUNT(*) AS unique_pages
    FROM (
        SELECT event_date, event_hour, domain, title
        FROM silver_day
        WHERE title IS NOT NULL
        GROUP BY event_date, event_hour, domain, title
    ) AS distinct_pages
    GROUP BY event_date, event_hour, domain
)
SELECT
    counts.event_date AS stat_date,
    counts.event_hour AS stat_hour,
    counts.domain,
    counts.region,
    counts.total_events,
    COALESCE(users.unique_users, 0) AS unique_users,
    COALESCE(pages.unique_pages, 0) AS unique_pages,
    counts.bytes_added,
    counts.bytes_removed,
    counts.avg_edit_size,
    counts.bot_edits,
    counts.human_edits,
    ROUND(100 * CAST(counts.bot_edits AS DOUBLE) / counts.total_events, 2) AS bot_percentage,
    counts.anonymous_edits,
    counts.type_edit,
    counts.type_new,
    counts.type_categorize,
    counts.type_log,
    counts.large_deletions,
    counts.large_additions,
    {schema_version} AS schema_version,
    counts.ip_edits,
    counts.temporary_edits
FROM counts
LEFT JOIN users
    ON users.event_date = counts.event_date
    AND users.event_hour = counts.event_hour
    AND users.domain = counts.domain
LEFT JOIN pages
    ON pages.event_date = counts.event_date
    AND pages.event_hour = counts.event_hour
    AND pages.domain = counts.domain
