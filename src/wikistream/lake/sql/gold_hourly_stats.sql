-- gold.hourly_stats: one row per (stat_date, stat_hour, domain) with events (SEED-FACTS §4.2).
--
-- View provided by the runner:
--   silver_day  silver.cleaned_events rows of the dates being recomputed (every row of each date)
-- Parameters: {schema_version}
-- Output: the hourly_stats columns except gold_processed_at (stamped by the runner).
-- region is a function of domain, so grouping by it as the seed does changes nothing.
SELECT
    event_date AS stat_date,
    event_hour AS stat_hour,
    domain,
    region,
    COUNT(*) AS total_events,
    COUNT(DISTINCT user_normalized) AS unique_users,
    COUNT(DISTINCT title) AS unique_pages,
    CAST(SUM(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END) AS BIGINT) AS bytes_added,
    CAST(SUM(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END) AS BIGINT) AS bytes_removed,
    AVG(CAST(ABS(COALESCE(length_delta, 0)) AS BIGINT)) AS avg_edit_size,
    CAST(SUM(CASE WHEN is_bot THEN 1 ELSE 0 END) AS BIGINT) AS bot_edits,
    CAST(SUM(CASE WHEN NOT is_bot THEN 1 ELSE 0 END) AS BIGINT) AS human_edits,
    ROUND(100 * CAST(SUM(CASE WHEN is_bot THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*), 2) AS bot_percentage,
    CAST(SUM(CASE WHEN is_anonymous THEN 1 ELSE 0 END) AS BIGINT) AS anonymous_edits,
    CAST(SUM(CASE WHEN event_type = 'edit' THEN 1 ELSE 0 END) AS BIGINT) AS type_edit,
    CAST(SUM(CASE WHEN event_type = 'new' THEN 1 ELSE 0 END) AS BIGINT) AS type_new,
    CAST(SUM(CASE WHEN event_type = 'categorize' THEN 1 ELSE 0 END) AS BIGINT) AS type_categorize,
    CAST(SUM(CASE WHEN event_type = 'log' THEN 1 ELSE 0 END) AS BIGINT) AS type_log,
    CAST(SUM(CASE WHEN is_large_deletion THEN 1 ELSE 0 END) AS BIGINT) AS large_deletions,
    CAST(SUM(CASE WHEN is_large_addition THEN 1 ELSE 0 END) AS BIGINT) AS large_additions,
    {schema_version} AS schema_version,
    CAST(SUM(CASE WHEN user_kind = 'ip' THEN 1 ELSE 0 END) AS BIGINT) AS ip_edits,
    CAST(SUM(CASE WHEN user_kind = 'temporary' THEN 1 ELSE 0 END) AS BIGINT) AS temporary_edits
FROM silver_day
GROUP BY event_date, event_hour, domain, region
