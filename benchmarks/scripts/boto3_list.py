"""A minimal boto3 script: list every SageMaker tuning job of the regions given, print JSON."""

import json
import sys

import boto3

rows = []
for region in sys.argv[1:]:
    client = boto3.client("sagemaker", region_name=region)
    kwargs = {"MaxResults": 100}
    while True:
        reply = client.list_hyper_parameter_tuning_jobs(**kwargs)
        rows.extend(reply["HyperParameterTuningJobSummaries"])
        if not reply.get("NextToken"):
            break
        kwargs["NextToken"] = reply["NextToken"]
print(json.dumps(rows, default=str))
