-- Level 4: read-only views over the level-2 call-center tables for customer
-- reports (STAT-D3) and the CLI. No new data: every figure is still computed
-- from the append-only rows (docs/database.md, level 2).

-- IVR-7: how many calls went through each node of each flow, by result.
CREATE VIEW ivr_node_counts AS
    SELECT flow, node, result, COUNT(*) AS visits, MIN(at) AS first_at, MAX(at) AS last_at
    FROM ivr_visits
    GROUP BY flow, node, result;

-- IVR-8: post-call survey per queue: satisfaction rate = satisfied / surveyed.
CREATE VIEW survey_results AS
    SELECT queue,
           COUNT(satisfaction) AS surveyed,
           COALESCE(SUM(satisfaction), 0) AS satisfied,
           CAST(COALESCE(SUM(satisfaction), 0) AS REAL) / NULLIF(COUNT(satisfaction), 0)
               AS satisfaction_rate
    FROM cdr
    WHERE satisfaction IS NOT NULL
    GROUP BY queue;
