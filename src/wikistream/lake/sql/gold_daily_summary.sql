-- gold.daily_analytics_summary: one row per date with events (SEED-FACTS §4.4).
--
-- Views provided by the runner:
--   silver_day  silver.cleaned_events rows of the dates being recomputed (every row of each date)
--   risk_day    gold.risk_scores rows of the same dates (every scored user), e.g. the output of
--               gold_risk_scores.sql over silver_day
-- Parameters: {schema_version}
-- Output: the daily_analytics_summary columns except gold_processed_at (stamped by the runner).
--
-- Fixed vs the seed: the health score divides by total_events (never NULL for a one-event day);
-- middle_east_percentage and other_percentage complete the regional split to 100 %.
-- Distinct counts are taken over pre-grouped rows (same result as COUNT(DISTINCT), faster).
-- Kept: avg_events_per_hour = total / 24 for every day, including the running one.
WITH base AS (
    SELECT
        event_date AS summary_date,
        COUNT(*) AS total_events,
        SUM(CASE WHEN is_bot THEN 1 ELSE 0 END) AS bot_events,
        SUM(CASE WHEN is_anonymous THEN 1 ELSE 0 END) AS anonymous_events,
        SUM(CASE WHEN is_bot = FALSE AND is_anonymous = FALSE THEN 1 ELSE 0 END)
            AS registered_events,
        CAST(SUM(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END) AS BIGINT)
            AS total_bytes_added,
        CAST(SUM(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END) AS BIGINT)
            AS total_bytes_removed,
        AVG(CAST(ABS(COALESCE(length_delta, 0)) AS BIGINT)) AS avg_edit_size,
        CAST(SUM(CASE WHEN event_type = 'new' THEN 1 ELSE 0 END) AS BIGINT) AS new_pages_created,
        CAST(SUM(CASE WHEN is_large_deletion THEN 1 ELSE 0 END) AS BIGINT) AS large_deletions_count,
        CAST(SUM(CASE WHEN is_large_addition THEN 1 ELSE 0 END) AS BIGINT) AS large_additions_count,
        SUM(CASE WHEN region = 'europe' THEN 1 ELSE 0 END) AS europe_events,
        SUM(CASE WHEN region = 'americas' THEN 1 ELSE 0 END) AS americas_events,
        SUM(CASE WHEN region = 'asia_pacific' THEN 1 ELSE 0 END) AS asia_pacific_events,
        SUM(CASE WHEN region = 'middle_east' THEN 1 ELSE 0 END) AS middle_east_events,
        SUM(CASE WHEN region = 'other' THEN 1 ELSE 0 END) AS other_events
    FROM silver_day
    GROUP BY event_date
),
distinct_users AS (
    SELECT summary_date, COUNT(*) AS unique_users
    FROM (
        SELECT event_date AS summary_date, user_normalized
        FROM silver_day
        WHERE user_normalized IS NOT NULL
        GROUP BY event_date, user_normalized
    ) AS day_users
    GROUP BY summary_date
),
distinct_pages AS (
    SELECT summary_date, COUNT(*) AS unique_pages_edited
    FROM (
        SELECT event_date AS summary_date, title
        FROM silver_day
        WHERE title IS NOT NULL
        GROUP BY event_date, title
    ) AS day_pages
    GROUP BY summary_date
),
distinct_domains AS (
    SELECT summary_date, COUNT(*) AS active_domains
    FROM (
        SELECT event_date AS summary_date, domain
        FROM silver_day
        GROUP BY event_date, domain
    ) AS day_domains
    GROUP BY summary_date
),
hour_events AS (
    SELECT event_date AS summary_date, event_hour, COUNT(*) AS events
    FROM silver_day
    GROUP BY event_date, event_hour
),
peak AS (
    SELECT summary_date, MAX(events) AS peak_hour_events
    FROM hour_events
    GROUP BY summary_date
),
risk AS (
    SELECT
        stat_date,
        COUNT(*) AS scored_users,
        SUM(CASE WHEN risk_level = 'HIGH' THEN 1 ELSE 0 END) AS high_users,
        SUM(CASE WHEN risk_level = 'MEDIUM' THEN 1 ELSE 0 END) AS medium_users,
        SUM(CASE WHEN risk_level = 'LOW' THEN 1 ELSE 0 END) AS low_users,
        AVG(risk_score) AS avg_risk,
        MAX(risk_score) AS max_risk,
        SUM(CASE WHEN alert_triggered THEN 1 ELSE 0 END) AS alerts
    FROM risk_day
    GROUP BY stat_date
),
health AS (
    SELECT
        base.*,
        COALESCE(distinct_users.unique_users, 0) AS unique_users,
        distinct_domains.active_domains,
        COALESCE(distinct_pages.unique_pages_edited, 0) AS unique_pages_edited,
        peak.peak_hour_events,
        COALESCE(risk.scored_users, 0) AS scored_users,
        COALESCE(risk.high_users, 0) AS high_users,
        COALESCE(risk.medium_users, 0) AS medium_users,
        COALESCE(risk.low_users, 0) AS low_users,
        COALESCE(risk.avg_risk, 0.0) AS avg_risk,
        COALESCE(risk.max_risk, 0.0) AS max_risk,
        COALESCE(risk.alerts, 0) AS alerts,
        CASE
            WHEN COALESCE(risk.scored_users, 0) > 0
                THEN 40 * CAST(risk.low_users AS DOUBLE) / risk.scored_users
            ELSE 0.0
        END AS h_risk,
        30 * CAST(registered_events AS DOUBLE) / total_events AS h_registered,
        CASE
            WHEN total_bytes_added > total_bytes_removed THEN 20.0
            WHEN total_bytes_added > 0.5 * total_bytes_removed THEN 10.0
            ELSE 0.0
        END AS h_content,
        CASE
            WHEN large_deletions_count < 0.01 * total_events THEN 10.0
            WHEN large_deletions_count < 0.05 * total_events THEN 5.0
            ELSE 0.0
        END AS h_deletions
    FROM base
    JOIN peak ON peak.summary_date = base.summary_date
    JOIN distinct_domains ON distinct_domains.summary_date = base.summary_date
    LEFT JOIN distinct_users ON distinct_users.summary_date = base.summary_date
    LEFT JOIN distinct_pages ON distinct_pages.summary_date = base.summary_date
    LEFT JOIN risk ON risk.stat_date = base.summary_date
)
SELECT
    summary_date,
    total_events,
    unique_users,
    active_domains,
    unique_pages_edited,
    ROUND(100 * CAST(bot_events AS DOUBLE) / total_events, 2) AS bot_percentage,
    ROUND(100 * CAST(anonymous_events AS DOUBLE) / total_events, 2) AS anonymous_percentage,
    ROUND(100 * CAST(registered_events AS DOUBLE) / total_events, 2) AS registered_user_percentage,
    total_bytes_added,
    total_bytes_removed,
    total_bytes_added - total_bytes_removed AS net_content_change,
    ROUND(avg_edit_size, 2) AS avg_edit_size_bytes,
    new_pages_created,
    large_deletions_count,
    large_additions_count,
    ROUND(100 * CAST(large_deletions_count AS DOUBLE) / total_events, 4) AS large_deletion_rate,
    CAST(high_users AS BIGINT) AS high_risk_user_count,
    CAST(medium_users AS BIGINT) AS medium_risk_user_count,
    CAST(low_users AS BIGINT) AS low_risk_user_count,
    CAST(avg_risk AS DOUBLE) AS platform_avg_risk_score,
    CAST(max_risk AS DOUBLE) AS platform_max_risk_score,
    CAST(alerts AS BIGINT) AS total_alerts_triggered,
    ROUND(100 * CAST(europe_events AS DOUBLE) / total_events, 2) AS europe_percentage,
    ROUND(100 * CAST(americas_events AS DOUBLE) / total_events, 2) AS americas_percentage,
    ROUND(100 * CAST(asia_pacific_events AS DOUBLE) / total_events, 2) AS asia_pacific_percentage,
    peak_hour_events,
    ROUND(CAST(total_events AS DOUBLE) / 24, 2) AS avg_events_per_hour,
    ROUND(LEAST(100.0, GREATEST(0.0, h_risk + h_registered + h_content + h_deletions)), 2)
        AS platform_health_score,
    {schema_version} AS schema_version,
    ROUND(100 * CAST(middle_east_events AS DOUBLE) / total_events, 2) AS middle_east_percentage,
    ROUND(100 * CAST(other_events AS DOUBLE) / total_events, 2) AS other_percentage
FROM health
