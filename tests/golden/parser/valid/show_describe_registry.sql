-- title: show providers
SHOW PROVIDERS;
-- title: show extended providers like
SHOW EXTENDED PROVIDERS LIKE 'g%';
-- title: show services in provider
SHOW SERVICES IN google;
-- title: show extended services like
show extended services in aws like '%sage%';
-- title: show resources in service
SHOW RESOURCES IN google.aiplatform;
-- title: show resources like
SHOW RESOURCES IN google.aiplatform LIKE '%tuning%';
-- title: show extended resources
SHOW EXTENDED RESOURCES IN aws.sagemaker;
-- title: show methods
SHOW METHODS IN google.aiplatform.hyperparameter_tuning_jobs;
-- title: show extended methods like
SHOW EXTENDED METHODS IN aws.sagemaker.hyper_parameter_tuning_jobs LIKE 'list%';
-- title: show insert into
SHOW INSERT INTO google.aiplatform.tuning_jobs;
-- title: show insert into with REQUIRED hint
SHOW /*+ REQUIRED */ INSERT INTO google.aiplatform.hyperparameter_tuning_jobs;
-- title: REQUIRED hint before SHOW
/*+ REQUIRED */ SHOW INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs;
-- title: describe
DESCRIBE google.aiplatform.hyperparameter_tuning_jobs;
-- title: describe extended
DESCRIBE EXTENDED aws.sagemaker.hyper_parameter_tuning_jobs;
-- title: desc shorthand
desc google.aiplatform.tuning_jobs
-- title: registry list
REGISTRY LIST;
-- title: registry list provider
REGISTRY LIST google;
-- title: registry pull with version
registry pull aws v24.09.00;
