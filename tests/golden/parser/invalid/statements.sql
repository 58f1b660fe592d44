-- title: misspelled SELECT
SELEC * FROM google.aiplatform.tuning_jobs;
-- title: SELECT FROM WHERE
SELECT FROM WHERE;
-- title: unclosed paren
SELECT count(* FROM google.aiplatform.tuning_jobs
-- title: unclosed paren at end
SELECT (1
-- title: dangling operator
SELECT 1 + FROM google.aiplatform.tuning_jobs;
-- title: unterminated string on line 3
SELECT name
FROM google.aiplatform.tuning_jobs
WHERE projectsId = 'p AND locationsId = 'us-central1';
-- title: unterminated block comment
SELECT 1; /* never closed
SELECT 2;
-- title: unterminated quoted name
SELECT "displayName FROM google.aiplatform.tuning_jobs;
-- title: error in the second statement of a script
SHOW PROVIDERS;
SELECT name FROM google.aiplatform.tuning_jobs WHERE;
-- title: expression is not a statement
(1 + 2);
-- title: unknown first word
CHECKPOINT;
-- title: duckdb command that sqlglot keeps as a generic Command
RESET threads;
-- title: duckdb statement sqlglot falls back on
FORCE CHECKPOINT;
-- title: delete without FROM
DELETE google.aiplatform.tuning_jobs WHERE projectsId = 'p';
-- title: insert without table
INSERT INTO;
-- title: trailing garbage after a query
SELECT 1 2 3;
-- title: duckdb SHOW TABLES is not StackQL SHOW
SHOW TABLES;
-- title: EXPLAIN falls back to a generic Command
EXPLAIN SELECT 1;
