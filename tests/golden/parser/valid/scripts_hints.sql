-- title: multi-statement script with empty statements and comments
-- a header comment
SHOW PROVIDERS;;
/* block comment; with a semicolon */
SELECT 1 AS one; -- trailing comment; with semicolon
;
DESCRIBE google.aiplatform.tuning_jobs
;
-- only a comment at the end;
-- title: stackql-deploy anchors
/*+ exists */
SELECT COUNT(*) as count FROM google.aiplatform.tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1';

/*+ statecheck, retries=5, retry_delay=10 */
SELECT COUNT(*) as count FROM google.aiplatform.tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1' AND state = 'JOB_STATE_SUCCEEDED';

/*+ exports */
SELECT name AS job_name FROM google.aiplatform.tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1';

/*+ createorupdate */
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, data__baseModel)
SELECT 'p', 'us-central1', 'gemini';

/*+ update */
UPDATE google.aiplatform.tuning_jobs SET labels = '{}' WHERE projectsId = 'p';

/*+ delete */
DELETE FROM google.aiplatform.tuning_jobs WHERE projectsId = 'p' AND locationsId = 'l' AND tuningJobsId = '1';
-- title: several hints, options with spaces, ON_ERROR
/*+ ON_ERROR=CONTINUE */ /*+ statecheck retries = 3, retry_delay=1 */
SELECT /*+ AWAIT, SHOWRESULTS */ 1;
-- title: hint after SELECT keyword only
SELECT /*+ AWAIT */ name FROM google.aiplatform.tuning_jobs WHERE projectsId = 'p' AND locationsId = 'l'
-- title: a hint-like text inside a string is text
SELECT name, '/*+ AWAIT */' AS note FROM google.aiplatform.tuning_jobs WHERE projectsId = 'p' AND locationsId = 'l';
-- title: semicolons inside strings and quoted names
SELECT 'a;b' AS "x;y", $$c;d$$ AS z;
SELECT 'it''s; fine';
-- title: a hint inside another comment is part of that comment
SELECT name FROM google.aiplatform.tuning_jobs -- add /*+ ON_ERROR=CONTINUE */ later
WHERE projectsId = 'p' /* see /*+ AWAIT */ in the docs */ AND locationsId = 'l';
