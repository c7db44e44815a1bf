import sys

from jugendhaus_mail.cli import main

sys.exit(main())
