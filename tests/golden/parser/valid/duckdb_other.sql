-- title: create table as select
CREATE TABLE snap AS SELECT name, state FROM google.aiplatform.tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1';
-- title: copy to parquet
COPY (SELECT * FROM snap) TO 'jobs.parquet' (FORMAT parquet);
-- title: set and pragma
SET threads = 4;
PRAGMA version;
-- title: create view and drop
CREATE VIEW v AS SELECT 1 AS a;
DROP VIEW v;
-- title: duckdb FROM-first query
FROM snap SELECT name;
-- title: duckdb bare VALUES and PIVOT statements return rows
VALUES (1, 'a'), (2, 'b');
PIVOT snap ON state USING count(*);
-- title: attach and schema that host the provider names
ATTACH ':memory:' AS google;
CREATE SCHEMA google.aiplatform;
