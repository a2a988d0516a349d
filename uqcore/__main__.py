from uqcore.cli import main

raise SystemExit(main())
