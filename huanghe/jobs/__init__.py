"""The live job path: submit, store, place (through the broker), dispatch to back-ends, follow, cancel, logs."""
