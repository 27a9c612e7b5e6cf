-- gold.risk_scores: one row per (stat_date, human user with >= 5 events) (SEED-FACTS §4.3).
--
-- View provided by the runner:
--   silver_day  silver.cleaned_events rows of the dates being recomputed (every row of each date)
-- Parameters: {schema_version}
-- Output: the risk_scores columns except gold_processed_at (stamped by the runner).
--
-- Seed formulas kept: E = edits_per_hour_avg = total/24 rounded to 6 digits (always /24), the four
-- factors and their thresholds, score = clamp(0, 100, V + D + A + C).
-- Fixed: risk_level follows risk_score (HIGH >= 70, MEDIUM >= 40, else LOW) and
-- alert_triggered = (risk_level = HIGH); the seed derived both from other sums.
WITH human AS (
    SELECT event_date, event_hour, user_normalized, user_kind, domain, is_anonymous,
           is_large_deletion
    FROM silver_day
    WHERE is_bot = FALSE AND user_normalized IS NOT NULL
),
-- one row per (date, user, hour, domain); the per-user figures roll these up, which is much
-- faster than COUNT(DISTINCT domain) over every event and gives the same numbers
cells AS (
    SELECT
        event_date,
        user_normalized,
        event_hour,
        domain,
        MAX(user_kind) AS user_kind,
        COUNT(*) AS edits,
        SUM(CASE WHEN is_large_deletion THEN 1 ELSE 0 END) AS large_deletions,
        SUM(CASE WHEN is_anonymous THEN 1 ELSE 0 END) AS anonymous_edits
    FROM human
    GROUP BY event_date, user_normalized, event_hour, domain
),
per_user AS (
    SELECT
        event_date AS stat_date,
        user_normalized AS entity_id,
        MAX(user_kind) AS user_kind,
        CAST(SUM(edits) AS BIGINT) AS total_edits,
        CAST(SUM(large_deletions) AS BIGINT) AS large_deletions,
        CAST(SUM(anonymous_edits) AS BIGINT) AS anonymous_edits
    FROM cells
    GROUP BY event_date, user_normalized
    HAVING SUM(edits) >= 5
),
domains AS (
    SELECT stat_date, entity_id, COUNT(*) AS domains_edited
    FROM (
        SELECT event_date AS stat_date, user_normalized AS entity_id, domain
        FROM cells
        GROUP BY event_date, user_normalized, domain
    ) AS user_domains
    GROUP BY stat_date, entity_id
),
peak AS (
    SELECT stat_date, entity_id, MAX(edits) AS peak_hour_edits
    FROM (
        SELECT event_date AS stat_date, user_normalized AS entity_id, SUM(edits) AS edits
        FROM cells
        GROUP BY event_date, user_normalized, event_hour
    ) AS user_hours
    GROUP BY stat_date, entity_id
),
rated AS (
    SELECT
        per_user.*,
        domains.domains_edited,
        CAST(peak.peak_hour_edits AS BIGINT) AS peak_hour_edits,
        ROUND(CAST(total_edits AS DOUBLE) / 24, 6) AS edits_per_hour_avg
    FROM per_user
    JOIN domains
        ON domains.stat_date = per_user.stat_date AND domains.entity_id = per_user.entity_id
    JOIN peak ON peak.stat_date = per_user.stat_date AND peak.entity_id = per_user.entity_id
),
points AS (
    SELECT
        rated.*,
        CAST(CASE
            WHEN edits_per_hour_avg > 50 THEN 40
            WHEN edits_per_hour_avg > 25 THEN 25
            WHEN edits_per_hour_avg > 10 THEN 10
            ELSE 0
        END AS DOUBLE) AS velocity_points,
        CAST(CASE
            WHEN large_deletions > 3 THEN 30
            WHEN large_deletions > 1 THEN 15
            ELSE 0
        END AS DOUBLE) AS deletion_points,
        CAST(CASE WHEN anonymous_edits > 0.5 * total_edits THEN 20 ELSE 0 END AS DOUBLE)
            AS anonymous_points,
        CAST(CASE WHEN domains_edited > 5 AND edits_per_hour_avg > 20 THEN 10 ELSE 0 END AS DOUBLE)
            AS cross_domain_points
    FROM rated
),
scored AS (
    SELECT
        points.*,
        LEAST(100.0, GREATEST(0.0,
            velocity_points + deletion_points + anonymous_points + cross_domain_points
        )) AS risk_score
    FROM points
)
SELECT
    stat_date,
    entity_id,
    'user' AS entity_type,
    total_edits,
    edits_per_hour_avg,
    large_deletions,
    domains_edited,
    risk_score,
    CASE WHEN risk_score >= 70 THEN 'HIGH' WHEN risk_score >= 40 THEN 'MEDIUM' ELSE 'LOW' END
        AS risk_level,
    '{"edits_per_hour":' || printf('%.2f', ROUND(edits_per_hour_avg, 2))
        || ',"large_deletions":' || CAST(large_deletions AS STRING)
        || ',"domains_edited":' || CAST(domains_edited AS STRING)
        || ',"total_edits":' || CAST(total_edits AS STRING)
        || ',"anonymous_edits":' || CAST(anonymous_edits AS STRING)
        || ',"peak_hour_edits":' || CAST(peak_hour_edits AS STRING)
        || ',"user_kind":"' || user_kind || '"}' AS evidence,
    risk_score >= 70 AS alert_triggered,
    {schema_version} AS schema_version,
    anonymous_edits,
    peak_hour_edits,
    velocity_points,
    deletion_points,
    anonymous_points,
    cross_domain_points,
    user_kind
FROM scored
