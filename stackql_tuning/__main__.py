from stackql_tuning.cli import main

raise SystemExit(main())
