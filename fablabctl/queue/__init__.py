"""The job queue: states, scheduler (pure), dispatcher loop. Ties validation, toolpaths and drivers."""
