-- title: SHOW FOO
SHOW FOO;
-- title: SHOW alone
SHOW;
-- title: SHOW SERVICES without IN
SHOW SERVICES google;
-- title: SHOW RESOURCES with a 1-part name
SHOW RESOURCES IN google;
-- title: SHOW METHODS IN without name
SHOW METHODS IN;
-- title: SHOW INSERT without INTO
SHOW INSERT google.aiplatform.tuning_jobs;
-- title: SHOW LIKE without a string
SHOW PROVIDERS LIKE goo;
-- title: SHOW with trailing words
SHOW PROVIDERS please;
-- title: DESCRIBE without name
DESCRIBE;
-- title: DESCRIBE with two parts
DESCRIBE EXTENDED google.aiplatform;
-- title: REGISTRY without action
REGISTRY;
-- title: REGISTRY unknown action
REGISTRY PUSH google;
