# Malformed mutations: each case is checked before any call (a fake fetcher fails the test on
# any fetch). Format: "# title: ..." then the statement, then "# error: <class>: <substring>";
# the substring must appear in str(error). Placeholders: none; every case is self-contained.

# title: INSERT unknown column, close name suggested
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, dispalyName) VALUES ('p', 'us-central1', 'x');
# error: PlanError: unknown column 'dispalyName'
# error: PlanError: did you mean 'displayName'

# title: INSERT without a column list
INSERT INTO google.aiplatform.tuning_jobs VALUES ('us-central1', 'p', 'gemini-1.0-pro-002');
# error: PlanError: needs a column list

# title: INSERT missing a required body field
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, displayName, maxTrialCount, parallelTrialCount, studySpec) VALUES ('p', 'us-central1', 'x', 1, 1, '{}');
# error: PlanError: missing required value for trialJobSpec

# title: INSERT missing the model to tune (a base model or a pre-tuned one)
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, description, supervisedTuningSpec) VALUES ('p', 'us-central1', 'no base model', '{"trainingDatasetUri": "gs://b/t.jsonl"}');
# error: PlanError: needs one of baseModel, preTunedModel

# title: INSERT missing a required path param
INSERT INTO google.aiplatform.tuning_jobs (locationsId, baseModel) VALUES ('us-central1', 'gemini-1.0-pro-002');
# error: PlanError: missing required value for projectsId

# title: INSERT a required field given as NULL
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel, supervisedTuningSpec) VALUES ('p', 'us-central1', NULL, '{"trainingDatasetUri": "gs://b/t.jsonl"}');
# error: PlanError: needs one of baseModel, preTunedModel

# title: INSERT wrong type: string for an integer field
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, displayName, maxTrialCount, parallelTrialCount, studySpec, trialJobSpec) VALUES ('p', 'us-central1', 'x', 'ten', 1, '{}', '{}');
# error: PlanError: row 1, column maxTrialCount: expects an integer, got 'ten'

# title: INSERT wrong type: number for a string field
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-central1', 42);
# error: PlanError: column baseModel: expects a string, got the number 42

# title: INSERT unparsable JSON names the column and the JSON position
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, displayName, maxTrialCount, parallelTrialCount, studySpec, trialJobSpec) VALUES ('p', 'us-central1', 'x', 1, 1, '{"metrics": [', '{}');
# error: PlanError: column studySpec: is not valid JSON
# error: PlanError: line 1, column 14

# title: INSERT JSON array where an object is expected
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel, labels) VALUES ('p', 'us-central1', 'm', '["a"]');
# error: PlanError: column labels: expects a JSON object, got a JSON array

# title: INSERT a row with too few values
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-central1');
# error: PlanError: row 1 has 2 value(s) for 3 column(s)

# title: INSERT the same column twice (data__ prefix and bare)
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel, data__baseModel) VALUES ('p', 'us-central1', 'a', 'b');
# error: PlanError: column baseModel is given twice

# title: INSERT a hostile path value
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('../other', 'us-central1', 'm');
# error: PlanError: parameter projectsId = '../other' contains a '/'

# title: INSERT a bad row among good ones fails before any call
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-central1', 'a'), ('p', 'us-central1', 'b'), ('p/q', 'us-central1', 'c');
# error: PlanError: parameter projectsId = 'p/q'

# title: INSERT into a location that does not exist
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-centrall', 'm');
# error: PlanError: is not a location served by google.aiplatform

# title: INSERT into a resource without a create method
INSERT INTO aws.sagemaker.hyper_parameter_tuning_job_training_jobs (region) VALUES ('us-east-1');
# error: PlanError: has no INSERT method

# title: INSERT into an unknown resource
INSERT INTO google.aiplatform.hyperparameter_tuning_job (projectsId) VALUES ('p');
# error: PlanError: hyperparameter_tuning_jobs

# title: INSERT VALUES with a column reference
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-central1', other_column);
# error: PlanError: INSERT ... VALUES takes constants

# title: AWS INSERT whose nested body botocore rejects
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig) VALUES ('us-east-1', 'j1', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": "two"}}');
# error: PlanError: does not fit CreateHyperParameterTuningJob's input
# error: PlanError: HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs

# title: AWS INSERT with an unknown nested key
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig) VALUES ('us-east-1', 'j1', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}, "Colour": 1}');
# error: PlanError: Unknown parameter in HyperParameterTuningJobConfig: "Colour"

# title: AWS INSERT with a bad region
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig) VALUES ('mars-1', 'j1', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}');
# error: PlanError: region = 'mars-1' is not an AWS region name

# title: INSERT a tuning job without a tuning spec (the API needs one of them)
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel) VALUES ('p', 'us-central1', 'gemini-1.0-pro-002');
# error: PlanError: row 1: needs one of supervisedTuningSpec, preferenceOptimizationSpec

# title: AWS INSERT without a training job definition (SageMaker needs one; moto does not)
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES ('us-east-1', 'j1', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}', NULL);
# error: PlanError: needs one of TrainingJobDefinition, TrainingJobDefinitions

# title: INSERT a tuning job from a base model and a tuned model both (a oneof: one of them)
INSERT INTO google.aiplatform.tuning_jobs (projectsId, locationsId, baseModel, preTunedModel, supervisedTuningSpec) VALUES ('p', 'us-central1', 'gemini-1.0-pro-002', '{"tunedModelName": "projects/p/locations/us-central1/models/1"}', '{"trainingDatasetUri": "gs://b/t.jsonl"}');
# error: PlanError: row 1: gives baseModel and preTunedModel, of which the API takes one

# title: AWS INSERT with both training job definition forms
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, TrainingJobDefinition, TrainingJobDefinitions) VALUES ('us-east-1', 'j1', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}', '{"AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "i"}, "RoleArn": "arn:aws:iam::123456789012:role/r", "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}, "StoppingCondition": {"MaxRuntimeInSeconds": 60}}', '[{"AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "i"}, "RoleArn": "arn:aws:iam::123456789012:role/r", "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}, "StoppingCondition": {"MaxRuntimeInSeconds": 60}}]');
# error: PlanError: gives TrainingJobDefinition and TrainingJobDefinitions, of which the API takes one

# title: AWS INSERT with a job name SageMaker refuses (botocore does not check its pattern)
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES ('us-east-1', 'bad name!', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}', '{"AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "i"}, "RoleArn": "arn:aws:iam::123456789012:role/r", "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}, "StoppingCondition": {"MaxRuntimeInSeconds": 60}}');
# error: PlanError: HyperParameterTuningJobName = 'bad name!' does not match the API's pattern

# title: AWS INSERT with a job name longer than SageMaker takes
INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES ('us-east-1', 'a-name-of-forty-eight-characters-for-sagemaker-x', '{"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}', '{"AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "i"}, "RoleArn": "arn:aws:iam::123456789012:role/r", "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}, "StoppingCondition": {"MaxRuntimeInSeconds": 60}}');
# error: PlanError: has 48 characters, more than the 32 the API takes

# title: AWS stop of a job name SageMaker refuses
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1', @HyperParameterTuningJobName='bad_name';
# error: PlanError: HyperParameterTuningJobName = 'bad_name' does not match the API's pattern

# title: DELETE without WHERE
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs;
# error: PlanError: without WHERE would delete every resource

# title: DELETE without the job id ("delete everything in a location")
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1';
# error: PlanError: missing required value for hyperparameterTuningJobsId

# title: DELETE with a non-param predicate
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '1' AND state = 'JOB_STATE_FAILED';
# error: PlanError: state is not a parameter of its delete method

# title: DELETE with a subquery
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId IN (SELECT '1');
# error: PlanError: subqueries are not allowed

# title: DELETE with OR
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1' AND (hyperparameterTuningJobsId = '1' OR hyperparameterTuningJobsId = '2');
# error: PlanError: is not allowed: a DELETE may only AND together

# title: DELETE with a range predicate
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId > '1';
# error: PlanError: is not allowed

# title: DELETE binding a param to two different values
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' AND projectsId = 'q' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '1';
# error: PlanError: projectsId is bound twice to different values

# title: DELETE of a resource without a delete method
DELETE FROM google.aiplatform.tuning_jobs WHERE projectsId = 'p' AND locationsId = 'us-central1' AND tuningJobsId = '1';
# error: PlanError: has no DELETE method

# title: DELETE by a name that does not have the identity's form
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE name = 'projects/p/jobs/1';
# error: PlanError: does not have the form projects/{projectsId}

# title: AWS DELETE without the region
DELETE FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE HyperParameterTuningJobName = 'j1';
# error: PlanError: missing required value for region

# title: EXEC an unknown method lists the EXEC methods
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancle @projectsId='p', @locationsId='us-central1', @hyperparameterTuningJobsId='1';
# error: PlanError: no EXEC method 'cancle'
# error: PlanError: did you mean 'cancel'

# title: EXEC a SELECT method
EXEC google.aiplatform.hyperparameter_tuning_jobs.get @projectsId='p', @locationsId='us-central1', @hyperparameterTuningJobsId='1';
# error: PlanError: (it is a SELECT method); its EXEC methods are _list, cancel

# title: EXEC an unknown parameter, close name suggested
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel @projectId='p', @locationsId='us-central1', @hyperparameterTuningJobsId='1';
# error: PlanError: unknown parameter @projectId
# error: PlanError: did you mean 'projectsId'

# title: EXEC missing a required parameter
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel @projectsId='p', @locationsId='us-central1';
# error: PlanError: missing required value for hyperparameterTuningJobsId

# title: EXEC @@json that is not an object
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1' @@json='[1, 2]';
# error: PlanError: @@json must be a JSON object, got list

# title: EXEC @@json that is not JSON
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1' @@json='{"tunedModelRef": }';
# error: PlanError: @@json: is not valid JSON: Expecting value at line 1, column 19

# title: EXEC @@json with an unknown key
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1' @@json='{"tunedModelRf": {"tuningJob": "x"}}';
# error: PlanError: unknown key 'tunedModelRf'
# error: PlanError: did you mean 'tunedModelRef'

# title: EXEC @@json missing a required body field
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1' @@json='{"deployToSameEndpoint": true}';
# error: PlanError: missing required value for tunedModelRef

# title: EXEC @@json with a wrong type
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1' @@json='{"tunedModelRef": {"tuningJob": "x"}, "deployToSameEndpoint": "maybe"}';
# error: PlanError: key deployToSameEndpoint: expects a boolean, got 'maybe'

# title: EXEC a body field as an @param
EXEC google.aiplatform.tuning_jobs.rebase_tuned_model @projectsId='p', @locationsId='us-central1', @tunedModelRef='x';
# error: PlanError: tunedModelRef is a request body field: pass it in @@json

# title: EXEC with a hostile id
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel @projectsId='p', @locationsId='us-central1', @hyperparameterTuningJobsId='..';
# error: PlanError: is a dot segment

# title: EXEC the same parameter twice (caught by the parser)
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1', @HyperParameterTuningJobName='a', @hyperparametertuningjobname='b';
# error: ParseError: EXEC parameter '@hyperparametertuningjobname' is given twice

# title: AWS EXEC stop without the job name
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1';
# error: PlanError: missing required value for HyperParameterTuningJobName
