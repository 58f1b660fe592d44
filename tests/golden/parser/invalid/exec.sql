-- title: EXEC without method
EXEC google.aiplatform.hyperparameter_tuning_jobs.;
-- title: EXEC with a resource but no method part
EXEC google.aiplatform.hyperparameter_tuning_jobs @projectsId='p';
-- title: EXEC with nothing
EXEC;
-- title: EXEC with too many name parts
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel.now @projectsId='p';
-- title: EXEC param without value
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel @projectsId=, @locationsId='l';
-- title: EXEC param without equals
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel @projectsId 'p';
-- title: EXEC param without @
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop region='us-east-1';
-- title: EXEC param value is a column name
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region=us_east_1;
-- title: EXEC trailing comma
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1',;
-- title: EXEC duplicate parameter
EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop @region='us-east-1', @region='eu-west-1';
-- title: json body not a string
EXEC google.aiplatform.tuning_jobs.create @projectsId='p', @locationsId='l' @@json={"a": 1};
-- title: unknown double-at parameter
EXEC google.aiplatform.tuning_jobs.create @projectsId='p' @@body='{}';
-- title: space between @ and the name
EXEC google.aiplatform.tuning_jobs.cancel @ projectsId='p';
-- title: EXEC unterminated json string
EXEC google.aiplatform.tuning_jobs.create @projectsId='p'
@@json='{
  "baseModel": "x"
}
