-- title: stackql docs form with --required comments and @@json without comma
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel
@hyperparameterTuningJobsId='{{ hyperparameterTuningJobsId }}' --required,
@locationsId='{{ locationsId }}' --required,
@projectsId='{{ projectsId }}' --required
@@json=
'{
"foo": "bar"
}';
-- title: _list with SHOWRESULTS hint after EXEC
EXEC /*+ SHOWRESULTS */ google.aiplatform.hyperparameter_tuning_jobs._list @projectsId='p', @locationsId='l';
-- title: aws stop
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1', @HyperParameterTuningJobName='x';
-- title: method named create with @@json after a comma
EXEC google.aiplatform.tuning_jobs.create @projectsId='p', @locationsId='us-central1',
  @@json='{"baseModel": "gemini-1.5-pro-002", "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t.jsonl"}}';
-- title: method named delete with AWAIT hint
EXEC /*+ AWAIT */ aws.sagemaker.hyper_parameter_tuning_jobs.delete @region='us-east-1', @HyperParameterTuningJobName='old';
-- title: boto3 operation name as method and literal kinds
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.list_hyper_parameter_tuning_jobs
  @region='us-east-1' @MaxResults=10 @NameContains='x' @Exhaustive=true @NextToken=null @Offset=-1.5;
-- title: no params at all
EXEC google.aiplatform.hyperparameter_tuning_jobs._list
-- title: lower-cased resource, method kept as written, upper-case EXEC keyword variants
exec Google.AIPlatform.Hyperparameter_Tuning_Jobs.Cancel @projectsId = 'p' , @locationsId = 'l', @hyperparameterTuningJobsId = '1'
-- title: required comment swallows the terminator at end of input
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel
@hyperparameterTuningJobsId='1', --required
@locationsId='us-central1', --required
@projectsId='p' -- required;
