"""Running in production: the scheduler loop (`run`), one instance per config, the watchdog,
the status file, logging, the authentication back-off and data retention."""
