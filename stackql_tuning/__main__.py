from stackql_tuning.cli import run

run()
