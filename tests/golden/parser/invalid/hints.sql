-- title: empty hint
/*+ */ SELECT 1;
-- title: hint item is not a name
/*+ 5retries */ SELECT 1;
-- title: hint option without value
/*+ statecheck, retries= */ SELECT 1;
-- title: bad hint after EXEC keyword
EXEC /*+ AWAIT! */ google.aiplatform.tuning_jobs.cancel @projectsId='p';
-- title: misspelt hint after DELETE keyword
DELETE /*+ AWIAT */ FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'j';
-- title: unknown option of a hint, in the second statement
SELECT 1; /*+ AWAIT, on_eror=continue */ SELECT 2;
-- title: unknown hint nothing is close to
SELECT /*+ frobnicate */ 1;
-- title: misspelt ON_ERROR written as an option
/*+ on_eror=continue */ SELECT 1;
-- title: ON_ERROR value that is neither continue nor fail
/*+ ON_ERROR=contnue */ SELECT 1;
-- title: ON_ERROR option misspelt
/*+ ON_ERROR valeu=continue */ SELECT 1;
-- title: a hint later in the statement is not read (it was a comment, silently)
DELETE FROM google.aiplatform.tuning_jobs /*+ AWAIT */ WHERE projectsId = 'p' AND locationsId = 'l' AND tuningJobsId = '1';
-- title: a hint after the last word is not read
SELECT 1 /*+ ON_ERROR=CONTINUE */;
-- title: a hint option given twice (the last one won)
/*+ ON_ERROR=CONTINUE, ON_ERROR=FAIL */ SELECT 1;
