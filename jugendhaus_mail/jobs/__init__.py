"""The jobs the CLI and the scheduler run: remind and digest (intake lives in `intake.cycle`)."""
