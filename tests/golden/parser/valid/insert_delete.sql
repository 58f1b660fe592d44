-- title: seed 001 insert with create anchor
/*+ create */
INSERT INTO google.aiplatform.tuning_jobs (
locationsId,
projectsId,
supervisedTuningSpec,
tuningDataStats,
name,
state,
updateTime,
tunedModel,
encryptionSpec,
tunedModelDisplayName,
endTime,
experiment,
error,
description,
startTime,
createTime,
baseModel,
labels
)
SELECT 
'{{ locationsId }}',
'{{ projectsId }}',
'{{ supervisedTuningSpec }}',
'{{ tuningDataStats }}',
'{{ name }}',
'{{ state }}',
'{{ updateTime }}',
'{{ tunedModel }}',
'{{ encryptionSpec }}',
'{{ tunedModelDisplayName }}',
'{{ endTime }}',
'{{ experiment }}',
'{{ error }}',
'{{ description }}',
'{{ startTime }}',
'{{ createTime }}',
'{{ baseModel }}',
'{{ labels }}'
;
-- title: insert values with data__ columns
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (
  projectsId, locationsId, data__displayName, data__maxTrialCount, data__parallelTrialCount,
  data__studySpec, data__trialJobSpec
)
VALUES (
  'p', 'us-central1', 'my-hpt', 8, 2,
  '{"metrics": [{"metricId": "acc", "goal": "MAXIMIZE"}]}',
  '{"workerPoolSpecs": []}'
);
-- title: insert several rows with returning
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig)
VALUES ('us-east-1', 'a', '{"Strategy": "Bayesian"}'), ('eu-west-1', 'b', '{"Strategy": "Random"}')
RETURNING HyperParameterTuningJobArn, region;
-- title: insert select from another provider table, await hint after INSERT
INSERT /*+ AWAIT */ INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName)
SELECT 'us-east-1', displayName FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1' AND state = 'JOB_STATE_SUCCEEDED'
RETURNING *;
-- title: delete with await hint after DELETE
DELETE /*+ AWAIT */ FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '123';
-- title: delete with anchor before
/*+ delete */
DELETE FROM aws.sagemaker.hyper_parameter_tuning_jobs
WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'x'
-- title: update
UPDATE google.aiplatform.hyperparameter_tuning_jobs SET labels = '{"a": "b"}'
WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '1';
