-- title: empty hint
/*+ */ SELECT 1;
-- title: hint item is not a name
/*+ 5retries */ SELECT 1;
-- title: hint option without value
/*+ statecheck, retries= */ SELECT 1;
-- title: bad hint after EXEC keyword
EXEC /*+ AWAIT! */ google.aiplatform.tuning_jobs.cancel @projectsId='p';
