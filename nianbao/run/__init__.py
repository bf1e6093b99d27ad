"""Running: the pipeline (the one conductor of a document and a batch), the plan the command hands
the flow, extraction in isolated worker processes under limits, the run's stop flag, the reaper of
orphaned children, the garbage collector's settings, and `nianbao forget`."""
