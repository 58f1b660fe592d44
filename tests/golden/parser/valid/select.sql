-- title: design doc query
SELECT j.displayName, j.state, j.locationsId,
       json_extract_string(j.studySpec, '$.algorithm') AS algorithm
FROM google.aiplatform.hyperparameter_tuning_jobs j
WHERE j.projectsId = 'my-project'
  AND j.locationsId IN ('us-central1', 'europe-west4')
  AND j.state = 'JOB_STATE_RUNNING'
ORDER BY j.createTime DESC;
-- title: seed 001 select example
SELECT
name,
description,
baseModel,
createTime,
encryptionSpec,
endTime,
error,
experiment,
labels,
startTime,
state,
supervisedTuningSpec,
tunedModel,
tunedModelDisplayName,
tuningDataStats,
updateTime
FROM google.aiplatform.tuning_jobs
WHERE locationsId = '{{ locationsId }}'
AND projectsId = '{{ projectsId }}'; 
-- title: aws select with region IN
SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus, region
FROM aws.sagemaker.hyper_parameter_tuning_jobs
WHERE region IN ('us-east-1', 'eu-west-1') AND HyperParameterTuningJobStatus = 'InProgress'
-- title: join across clouds
SELECT g.displayName, a.HyperParameterTuningJobName
FROM google.aiplatform.hyperparameter_tuning_jobs g
JOIN aws.sagemaker.hyper_parameter_tuning_jobs a ON a.HyperParameterTuningJobName = g.displayName
LEFT JOIN google.aiplatform.tuning_jobs t ON t.name = g.name
WHERE g.projectsId = 'p' AND g.locationsId = 'us-central1' AND a.region = 'us-east-1';
-- title: union all across clouds
SELECT 'google' AS cloud, displayName AS name, state FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1'
UNION ALL
SELECT 'aws', HyperParameterTuningJobName, HyperParameterTuningJobStatus
FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1';
-- title: cte and window function
WITH jobs AS (
  SELECT displayName, state, createTime
  FROM google.aiplatform.hyperparameter_tuning_jobs
  WHERE projectsId = 'p' AND locationsId = 'us-central1'
)
SELECT state, displayName,
       row_number() OVER (PARTITION BY state ORDER BY createTime DESC) AS rn,
       count(*) OVER () AS total
FROM jobs
QUALIFY rn <= 3;
-- title: subqueries in FROM and WHERE
SELECT n.name FROM (
  SELECT name, state FROM google.aiplatform.tuning_jobs
  WHERE projectsId = 'p' AND locationsId = 'us-central1'
) n
WHERE n.state IN (SELECT DISTINCT state FROM google.aiplatform.hyperparameter_tuning_jobs
                  WHERE projectsId = 'p' AND locationsId = 'us-central1');
-- title: json_extract json_each and ->>
SELECT j.name,
       json_extract(j.studySpec, '$.algorithm') AS algo,
       j.labels ->> '$.team' AS team,
       e.key, e.value
FROM google.aiplatform.hyperparameter_tuning_jobs j, json_each(j.labels) e
WHERE j.projectsId = 'p' AND j.locationsId = 'us-central1'
  AND json_extract(j.labels, '$.env') = 'prod';
-- title: aggregates group by having
SELECT state, count(*) AS n, max(maxTrialCount) AS most
FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND locationsId IN ('us-central1', 'europe-west4')
GROUP BY state HAVING count(*) > 1 ORDER BY n DESC LIMIT 10;
-- title: lower-case keywords and quoted names
select "displayName", lower('US-EAST-1') as r from google.aiplatform.hyperparameter_tuning_jobs
where "projectsId" = 'p' and "locationsId" = 'us-central1'
